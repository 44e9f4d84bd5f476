/**
 * The firewall as nftables rules, written offline: /etc/nftables.conf, loaded at boot by Debian's
 * nftables.service. Incoming traffic is dropped except replies, loopback, ICMP, DHCPv6 replies and
 * the recipe's ports and services (resolved to ports from the image's own /etc/services); outgoing
 * traffic is free, as in firewalld's default zone.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';

const Port = z.strictObject({ protocol: z.enum(['tcp', 'udp']), port: z.string().regex(/^\d+(-\d+)?$/), comment: z.string().optional() });

export const firewall = defineStage({
  name: 'firewall',
  version: 1,
  kind: 'tree',
  summary: "Writes the firewall as nftables rules (/etc/nftables.conf) and enables nftables.service, which loads them at boot: incoming traffic is dropped but replies, loopback, ICMP, DHCPv6 replies, the recipe's ports and the ports of its services (named as in the image's /etc/services).",
  options: z.strictObject({ ports: z.array(Port), services: z.array(z.string()) }),
  async run(ctx, o) {
    const known = o.services.length ? servicePorts(await readFile(join(ctx.root, 'etc/services'), 'utf8').catch(() => '')) : new Map<string, z.output<typeof Port>[]>();
    const unknown = o.services.filter((s) => !known.has(s));
    if (unknown.length) {
      throw new BuildError(`firewall: service ${unknown.join(', ')} is not in the image's /etc/services; open its port instead (firewall.ports: ["8080/tcp"])`);
    }
    const open = [...o.ports, ...o.services.flatMap((s) => known.get(s) ?? [])];
    await writeFile(join(ctx.root, 'etc/nftables.conf'), nftablesConf(open), { mode: 0o755 });
    await ctx.chroot('systemctl', ['enable', 'nftables.service']);
    ctx.log(`firewall: open ${open.map((p) => `${p.port}/${p.protocol}${p.comment ? ` (${p.comment})` : ''}`).join(', ') || 'no ports'}`);
  },
});

/** Each service name and alias of an /etc/services file, with the ports it names. */
export function servicePorts(text: string): Map<string, z.output<typeof Port>[]> {
  const out = new Map<string, z.output<typeof Port>[]>();
  for (const line of text.split('\n')) {
    const [name, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/(tcp|udp)$/.exec(portProto ?? '');
    if (!name || !m?.[1] || (m[2] !== 'tcp' && m[2] !== 'udp')) continue;
    for (const key of [name, ...aliases]) out.set(key, [...(out.get(key) ?? []), { protocol: m[2], port: m[1], comment: name }]);
  }
  return out;
}

export function nftablesConf(open: z.output<typeof Port>[]): string {
  const rules = open.map((p) => `\t\t${p.protocol} dport ${p.port} accept${p.comment ? ` comment "${p.comment}"` : ''}`);
  return [
    '#!/usr/sbin/nft -f',
    "# Written by kiln from the recipe's firewall key.",
    'flush ruleset',
    '',
    'table inet filter {',
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy drop;',
    '\t\tct state established,related accept',
    '\t\tct state invalid drop',
    '\t\tiif "lo" accept',
    '\t\tmeta l4proto { icmp, ipv6-icmp } accept',
    '\t\tip6 saddr fe80::/10 udp dport 546 accept comment "dhcpv6-client"',
    ...rules,
    '\t}',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy drop;',
    '\t}',
    '\tchain output {',
    '\t\ttype filter hook output priority filter; policy accept;',
    '\t}',
    '}',
    '',
  ].join('\n');
}
