/**
 * Partition tables as sfdisk reads them (`sfdisk -J`): the one reader of that JSON, for `kiln diff`,
 * `kiln sbom`, `kiln boot` and the end-to-end tests. kiln writes its tables itself (src/disk/);
 * sfdisk is the independent reader, so what it says is what other tools will see.
 */
import { spawnSync } from 'node:child_process';
import { z } from 'zod';

const SfdiskJson = z.object({
  partitiontable: z.object({
    /** gpt or dos (MBR). */
    label: z.string(),
    /** The disk GUID on GPT, `0x` and the disk signature on MBR. */
    id: z.string(),
    sectorsize: z.number().int().positive().optional(),
    // sfdisk leaves the key out when the table has no partitions.
    partitions: z
      .array(
        z.object({
          /** In sectors. */
          start: z.number().int().nonnegative(),
          size: z.number().int().nonnegative(),
          /** A type GUID on GPT, a type byte in hex (`83`) on MBR. */
          type: z.string(),
          /** GPT only: the partition GUID and name. */
          uuid: z.string().optional(),
          name: z.string().optional(),
          bootable: z.boolean().optional(),
        }),
      )
      .default([]),
  }),
});

export type PartitionTable = z.output<typeof SfdiskJson>['partitiontable'];
export type SfdiskPartition = PartitionTable['partitions'][number];

/** sfdisk's JSON, checked; `source` names where it came from in the error. */
export function parseSfdisk(json: string, source = 'sfdisk -J'): PartitionTable {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`${source}: not JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const parsed = SfdiskJson.safeParse(value);
  if (!parsed.success) throw new Error(`${source}: not the partition table sfdisk -J prints: ${parsed.error.message}`);
  return parsed.data.partitiontable;
}

/** The partition table of an image file; undefined when sfdisk finds none (or cannot run). */
export function readSfdisk(image: string): PartitionTable | undefined {
  // sfdisk is in /usr/sbin, which a non-login PATH may lack (tools.ts looks there too).
  const result = spawnSync('sfdisk', ['-J', image], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
  if (result.status !== 0 || !result.stdout) return undefined;
  return parseSfdisk(result.stdout, `sfdisk -J ${image}`);
}
