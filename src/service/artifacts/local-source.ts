/**
 * Where a file handed over by path may come from: a regular file in the in-process worker's folder
 * for the lease the request holds (the job token proved which lease that is), reached without
 * leaving that folder through a symbolic link. A remote worker cannot write there, so the path
 * hand-over gives no one a way to make the server read its other files.
 */
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import { LOCAL_FILE_HEADER } from '../protocol.js';
import { ApiError } from '../http/errors.js';

export async function localSource(workDir: string | undefined, lease: string, path: string): Promise<string> {
  const refuse = (why: string) => new ApiError(400, 'invalid_request', `headers.${LOCAL_FILE_HEADER}: ${why}`);
  if (!workDir) throw refuse("this server takes files by path only from its own in-process worker; send the file as the request's body");
  if (!isAbsolute(path)) throw refuse(`${JSON.stringify(path)} is not an absolute path`);
  const folder = await realpath(join(workDir, lease)).catch(() => undefined);
  const file = await realpath(path).catch(() => undefined);
  if (!folder || !file?.startsWith(folder + sep)) throw refuse(`${JSON.stringify(path)} is not a file in the work folder of lease ${lease}`);
  // realpath followed the links; the name itself must be the file, not a link to it.
  const stat = await lstat(path);
  if (!stat.isFile()) throw refuse(`${JSON.stringify(path)} is not a regular file`);
  return file;
}
