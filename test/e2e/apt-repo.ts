/**
 * A signed apt repository made the way a small project makes one: packages built with dpkg-deb,
 * indexes with apt-ftparchive, InRelease signed by gpg with a throwaway key (its own GNUPGHOME),
 * served over HTTP on 127.0.0.1 by this process.
 */
import { createServer, type Server } from 'node:http';
import { createReadStream, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { run } from './kiln.js';

export interface AptRepo {
  url: string;
  /** The armored public key that signs the repository. */
  publicKey: string;
  close(): Promise<void>;
}

/** Versions of one `Architecture: all` package, each holding /usr/share/<name>/version. */
export async function signedRepo(dir: string, name: string, versions: string[], suite = 'kiln'): Promise<AptRepo> {
  const gnupg = join(dir, 'gnupg');
  mkdirSync(gnupg, { recursive: true, mode: 0o700 });
  const gpg = (...args: string[]) => run('gpg', ['--homedir', gnupg, '--batch', '--quiet', ...args]);
  gpg('--passphrase', '', '--quick-gen-key', 'kiln test repository <repo@kiln.test>', 'ed25519', 'sign', 'never');
  const publicKey = gpg('--export', '--armor');

  const root = join(dir, 'repo');
  const pool = join(root, 'pool/main');
  mkdirSync(pool, { recursive: true });
  for (const version of versions) {
    const tree = join(dir, `${name}-${version}`);
    mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
    mkdirSync(join(tree, 'usr/share', name), { recursive: true });
    writeFileSync(join(tree, 'DEBIAN/control'), `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: kiln tests <kiln@example.org>\nDescription: a package from the test's signed repository\n`);
    writeFileSync(join(tree, 'usr/share', name, 'version'), `${version}\n`);
    run('dpkg-deb', ['--root-owner-group', '--build', tree, join(pool, `${name}_${version}_all.deb`)]);
  }
  const dists = join(root, 'dists', suite);
  mkdirSync(join(dists, 'main/binary-amd64'), { recursive: true });
  writeFileSync(join(dists, 'main/binary-amd64/Packages'), run('sh', ['-c', `cd '${root}' && apt-ftparchive packages pool`]));
  const release = run('apt-ftparchive', ['-o', `APT::FTPArchive::Release::Suite=${suite}`, '-o', `APT::FTPArchive::Release::Codename=${suite}`, '-o', 'APT::FTPArchive::Release::Components=main', '-o', 'APT::FTPArchive::Release::Architectures=amd64', 'release', dists]);
  writeFileSync(join(dists, 'Release'), release);
  gpg('--clearsign', '--output', join(dists, 'InRelease'), join(dists, 'Release'));
  run('gpgconf', ['--homedir', gnupg, '--kill', 'gpg-agent']);

  const server = await serve(root);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, publicKey, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function serve(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
    let size = -1;
    try {
      const stat = statSync(path);
      if (path.startsWith(root) && stat.isFile()) size = stat.size;
    } catch {
      // Not there: 404 below, as apt expects for the index files a repository does not have.
    }
    if (size < 0) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(path).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
