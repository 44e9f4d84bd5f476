/**
 * A build's artifacts (size, sha256, download with the token) and its package list: build.json's
 * packages joined with the CycloneDX SBOM's licences, searchable.
 */
import { api, download, request, type Artifact } from './api.js';
import { field, h, put, table } from './dom.js';
import { formatBytes } from './format.js';
import { filterPackages, packageRows, type PackageRow } from './packages.js';
import { errorBox, guarded, section } from './ui.js';

const SHOWN_PACKAGES = 300;

/** `label` defaults to "Download NAME", so each row's button says what it fetches. */
function downloadButton(buildId: string, name: string, slot: HTMLElement, text = 'Download', label = `Download ${name}`): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'secondary', 'aria-label': label }, text);
  button.addEventListener('click', () => {
    button.disabled = true;
    slot.replaceChildren(h('p', { class: 'muted' }, `Downloading ${name}…`));
    download(buildId, name)
      .then(() => slot.replaceChildren())
      .catch((err: unknown) => slot.replaceChildren(errorBox(err, `Downloading ${name}`)))
      .finally(() => {
        button.disabled = false;
      });
  });
  return button;
}

export class BuildArtifacts {
  readonly el: HTMLElement;
  private readonly list = h('div', {}, h('p', { class: 'muted' }, 'Artifacts appear here once the build stores them, each checked by its sha256.'));
  private readonly status = h('div', { 'aria-live': 'polite' });
  private readonly packages = h('div', {}, h('p', { class: 'muted' }, 'The package list comes from build.json when the build has finished.'));
  private artifacts: Artifact[] = [];
  private packagesLoaded = false;
  /** The package list waits for the build to end: build.json and the SBOM arrive one by one. */
  private ended = false;

  constructor(private readonly buildId: string) {
    this.el = h('div', {}, section('Artifacts', this.status, this.list), section('Packages', this.packages));
  }

  async load(): Promise<void> {
    await guarded(this.list, async () => {
      this.artifacts = (await api.artifacts(this.buildId)).artifacts;
      this.draw();
    }, 'Loading the artifacts');
  }

  buildEnded(): void {
    if (this.ended) return;
    this.ended = true;
    this.draw();
  }

  add(a: Artifact): void {
    if (this.artifacts.some((x) => x.name === a.name)) return;
    this.artifacts.push(a);
    this.draw();
  }

  private draw(): void {
    if (!this.artifacts.length) return;
    const sorted = [...this.artifacts].sort((a, b) => a.name.localeCompare(b.name));
    const lock = sorted.find((a) => a.name === 'kiln.lock' || a.name.endsWith('.lock'));
    put(
      this.list,
      lock ? h('p', {}, downloadButton(this.buildId, lock.name, this.status, 'Download the lock file', `Download the lock file (${lock.name})`), ' ', h('span', { class: 'muted' }, 'the exact package versions, to rebuild this image')) : undefined,
      table(
        ['Name', 'Size', 'sha256', ''],
        sorted.map((a) =>
          h(
            'tr',
            { 'data-artifact': a.name },
            h('td', {}, a.name),
            h('td', { class: 'num' }, formatBytes(a.size)),
            h('td', {}, h('code', { class: 'hash', title: a.sha256 }, a.sha256)),
            h('td', {}, downloadButton(this.buildId, a.name, this.status)),
          ),
        ),
      ),
    );
    if (this.ended && !this.packagesLoaded && sorted.some((a) => a.name === 'build.json')) {
      this.packagesLoaded = true;
      void this.loadPackages(sorted);
    }
  }

  private async loadPackages(artifacts: Artifact[]): Promise<void> {
    const fetchJson = async (name: string): Promise<unknown> => (await request('GET', api.artifactUrl(this.buildId, name))).json();
    await guarded(this.packages, async () => {
      const cdx = artifacts.find((a) => a.name.endsWith('.cdx.json'));
      const [record, sbom] = await Promise.all([fetchJson('build.json'), cdx ? fetchJson(cdx.name) : Promise.resolve(undefined)]);
      this.showPackages(packageRows(record, sbom), cdx !== undefined);
    }, 'Loading the package list');
  }

  private showPackages(rows: PackageRow[], withLicences: boolean): void {
    if (!rows.length) {
      put(this.packages, h('p', { class: 'muted' }, 'build.json lists no packages (a build without a package database).'));
      return;
    }
    const search = h('input', { type: 'search', placeholder: 'name, version, licence or layer', autocomplete: 'off' });
    const out = h('div', { 'aria-live': 'polite' });
    const draw = () => {
      const found = filterPackages(rows, search.value);
      put(
        out,
        h('p', { class: 'muted' }, `${found.length} of ${rows.length} packages${withLicences ? '' : ' (no CycloneDX SBOM among the artifacts, so no licences)'}`),
        table(
          ['Package', 'Version', 'Arch', 'Licence', 'Asked for by'],
          found.slice(0, SHOWN_PACKAGES).map((p) => h('tr', {}, h('td', {}, p.name), h('td', {}, p.version), h('td', {}, p.arch), h('td', {}, p.license || '–'), h('td', {}, p.layers.join(', ') || 'a dependency'))),
        ),
        found.length > SHOWN_PACKAGES ? h('p', { class: 'muted' }, `${found.length - SHOWN_PACKAGES} more: narrow the search to see them.`) : undefined,
      );
    };
    search.addEventListener('input', draw);
    put(this.packages, field('Search packages', search), out);
    draw();
  }
}
