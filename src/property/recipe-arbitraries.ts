/**
 * fast-check arbitraries for recipes: values a user could write (good, bad and hostile) and whole
 * recipes built from the schema's keys with them. Shared by the property tests of recipes and layers.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ALLOWED } from '../recipe/allowed.js';

const EXTRA = 'zz_extra';
const ALL_ALLOWED = Object.values(ALLOWED).flatMap((a) => [...a.values]);

/** Strings a recipe might hold: names from the schema's tables, sizes, paths, and traps. */
const word = fc.oneof(
  fc.constantFrom(...ALL_ALLOWED, 'xfs', 'iso', 'bookworm', 'trixie', 'sid', 'ext3', 'esp', 'root', 'swap', 'linux', 'bios-boot', 'fat32', '0x83', 'C.UTF-8', 'Etc/UTC'),
  fc.constantFrom('512M', '2G', '30%', 'rest', 'auto', '1e309', '-5M', '0M', '1.5G', '99999999999999T', '100%', '0%', '1K', '4M'),
  fc.constantFrom('/', '/boot/efi', '/etc/motd', '../x', '/etc/../..', 'server/overlay/', 'server/welcome.txt', 'server/hooks/10-marker.sh', 'server', '/dev/null', 'nope.sh', 'a~', '.bak'),
  fc.constantFrom('my_image', 'x', 'a.b', '-x', 'UPPER', 'ü', 'a\u202eb', 'a\u200bb', 'a\tb', 'a\nb', '${X}', '${X:-d}', '$${x}', '${', '', ' ', 'ssh-ed25519 AAAA me'),
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 6, unit: 'binary' }),
);

const number = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1000, 60001, 2 ** 53, 2 ** 64, 1e308, 0.5, -0.0), fc.double());

/** Any value: scalars and small collections of them. */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    word,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(word, fc.constantFrom('name', 'size', 'src', 'dst', 'fs', 'mount', 'type')), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Mostly a value that fits the key, now and then anything: deep stages see many valid recipes. */
const or = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 60, arbitrary: good }, { weight: 1, arbitrary: word });
/** One of the values, the first (the one that fits most recipes) half of the time. */
const pick = <T>(first: T, ...others: T[]) => or(others.length ? fc.oneof(fc.constant(first), fc.constantFrom(...others)) : fc.constant(first));
const goodSize = fc.oneof(fc.integer({ min: 1, max: 4096 }).map((n) => `${n}M`), fc.constantFrom('1G', '2G', '10%', '50%'));
const partition = fc.record(
  {
    name: or(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/)),
    type: pick('linux', 'root', 'swap', 'data', 'xbootldr', 'home', 'srv', '0FC63DAF-8483-4772-8E79-3D69D8477DE4'),
    size: or(goodSize),
    fs: pick('ext4', 'ext2', 'btrfs', 'swap', 'vfat', 'squashfs', 'erofs'),
    mount: pick('/srv', '/home', '/var', '/data', '/opt'),
    label: pick('data', 'x'),
    grow: or(fc.constant(false)),
  },
  { requiredKeys: ['name', 'size'] },
);
const esp = { name: 'esp', type: 'esp', size: '256M', fs: 'vfat', mount: '/boot/efi' };
const rootPart = fc.record({ name: fc.constant('root'), type: fc.constant('root'), size: or(fc.constantFrom('rest', '1G', '2G')), fs: fc.constant('ext4'), mount: fc.constant('/'), grow: or(fc.boolean()) });
const disk = fc.record(
  {
    table: pick('gpt', 'mbr'),
    size: pick('auto', '2G', '4G', '1500M'),
    partitions: fc.tuple(fc.boolean(), fc.array(partition, { maxLength: 3 }), rootPart).map(([withEsp, middle, root]) => [...(withEsp ? [esp] : []), ...middle, root]),
  },
  { requiredKeys: [] },
);

const user = fc.record(
  {
    name: or(fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/)),
    password: or(fc.string({ maxLength: 10 })),
    groups: or(fc.array(fc.constantFrom('sudo', 'adm', 'users', 'video'), { maxLength: 3 })),
    shell: pick('/bin/bash', '/bin/sh'),
    ssh_keys: or(fc.constant(['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host'])),
    uid: or(fc.integer({ min: 1000, max: 60000 })),
  },
  { requiredKeys: ['name'] },
);
const file = fc.oneof(
  fc.record({ dst: pick('/etc/a', '/etc/motd', '/opt/x/y', '/root/.profile'), content: or(fc.string({ maxLength: 20 })), mode: pick('0644', '0600', '0755'), owner: pick('root', 'root:root') }, { requiredKeys: ['dst', 'content'] }),
  fc.record({ src: pick('server/overlay/', 'server/welcome.txt'), dst: pick('/', '/etc/w', '/srv/'), mode: pick('0644') }, { requiredKeys: ['src', 'dst'] }),
);
const packages = fc.array(or(fc.constantFrom('vim', 'curl', 'openssh-server', 'sudo', 'tree', 'vim=2:9.0.1378-2', 'libc6:amd64')), { maxLength: 4 });

const recipe = fc.record(
  {
    name: or(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/)),
    distro: fc.record({ release: pick('bookworm', 'trixie', 'sid'), variant: pick('minbase', 'important'), components: or(fc.constant(['main', 'contrib'])) }, { requiredKeys: [] }),
    arch: pick('amd64', ...ALLOWED.arch.values),
    layers: or(fc.array(fc.constantFrom('base', 'ssh-server', 'serial-console', 'growroot', 'slim', 'systemd-networkd', 'devuser'), { maxLength: 3 })),
    packages: or(packages),
    exclude: or(fc.constant(['/usr/share/doc/*'])),
    hostname: or(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]{1,8}){0,2}$/)),
    timezone: pick('Etc/UTC', 'Europe/Berlin'),
    locale: pick('C.UTF-8', 'en_US.UTF-8', 'de_DE.UTF-8'),
    root_password: or(fc.string({ maxLength: 8 })),
    users: or(fc.array(user, { maxLength: 2 })),
    services: fc.record({ enable: or(fc.constant(['ssh'])), disable: or(fc.constant(['getty@tty1'])) }, { requiredKeys: [] }),
    files: or(fc.array(file, { maxLength: 3 })),
    hooks: fc.record({ customize: pick(['server/hooks/10-marker.sh'], []), image: pick(['server/hooks/90-report.sh'], []) }, { requiredKeys: [] }),
    kernel: fc.record({ package: pick('linux-image-amd64', 'linux-image-arm64', 'none'), cmdline: or(fc.constant(['quiet'])), initramfs_modules: or(fc.constant(['virtio_blk', 'ext4'])) }, { requiredKeys: [] }),
    disk: or(disk),
    bootloader: pick('systemd-boot', ...ALLOWED.bootloader.values),
    outputs: or(fc.subarray([...ALLOWED.output.values], { minLength: 1 })),
    compress: pick('none', ...ALLOWED.compress.values),
    sbom: or(fc.subarray([...ALLOWED.sbom.values])),
    variables: or(fc.dictionary(fc.constantFrom('X', 'HOSTNAME', 'ADMIN'), fc.oneof(fc.string({ maxLength: 6 }), fc.nat()), { maxKeys: 2 })),
    [EXTRA]: fc.oneof({ weight: 20, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: anyValue }),
  },
  { requiredKeys: ['name'] },
).map((r) => {
  // Now and then an unknown key.
  const { [EXTRA]: extra, ...rest } = r;
  return extra === undefined ? rest : { ...rest, extra };
});

/** A recipe's text: mostly well-formed YAML of generated values, sometimes a raw value instead. */
export const anyRecipe: fc.Arbitrary<string> = fc.oneof(
  { weight: 9, arbitrary: recipe.map((r) => stringify(r)) },
  { weight: 1, arbitrary: anyValue.map((v) => stringify(v)) },
);
