/**
 * The image root as the stages see it: the stack of tree-stage layers from the store, mounted with
 * overlayfs at the workspace's root folder. A tree stage gets it writable with a fresh upper layer
 * (its future store entry); image stages and publishing get it read-only.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { Exec } from '../host/exec.js';
import { folderOf, type Store } from '../store/store.js';
import { mountOverlay, unmount } from '../host/overlay.js';
import type { Workspace } from './workspace.js';

export class ImageRoot {
  /** The tree stages so far, bottom first: store id and stage name. */
  private readonly layers: { id: string; stage: string }[] = [];
  private mounted: 'rw' | 'ro' | undefined;
  private mountedLayers = 0;

  constructor(
    private readonly exec: Exec,
    private readonly workspace: Workspace,
    private readonly store: Store,
  ) {}

  push(id: string, stage: string): void {
    this.layers.push({ id, stage });
  }

  /** The layers beneath the root, bottom first: which stage made each, and its folder in the store. */
  layerTrees(): { stage: string; tree: string }[] {
    return this.layers.map(({ id, stage }) => ({ stage, tree: this.store.treeOf(id) }));
  }

  /** A root whose changes land in `upper`; the first stage writes straight into it. */
  async writable(upper: string): Promise<string> {
    await this.release();
    await mkdir(upper, { recursive: true, mode: 0o755 });
    if (!this.layers.length) return upper;
    const work = await mkdtemp(join(this.workspace.scratch, 'overlay-'));
    await mountOverlay(this.exec, { lowers: this.lowers(), cwd: this.store.stages, upper: { dir: upper, work }, target: this.workspace.root });
    this.mounted = 'rw';
    return this.workspace.root;
  }

  async readOnly(): Promise<string> {
    if (this.mounted === 'ro' && this.mountedLayers === this.layers.length) return this.workspace.root;
    await this.release();
    const [only] = this.layers;
    if (only === undefined) throw new Error('no tree stage has run: there is no image root');
    // overlayfs wants two lower layers when there is no upper one; a single layer is the root itself.
    if (this.layers.length === 1) return this.store.treeOf(only.id);
    await mountOverlay(this.exec, { lowers: this.lowers(), cwd: this.store.stages, target: this.workspace.root });
    this.mounted = 'ro';
    this.mountedLayers = this.layers.length;
    return this.workspace.root;
  }

  async release(): Promise<void> {
    if (!this.mounted) return;
    await unmount(this.exec, this.workspace.root);
    this.mounted = undefined;
  }

  private lowers(): string[] {
    return this.layers.map(({ id }) => `${folderOf(id)}/tree`);
  }
}
