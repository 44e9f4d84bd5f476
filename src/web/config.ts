/**
 * The lists the interface offers (build states, architectures, token scopes), taken from the API's
 * schemas on the server and written into the page, so the browser needs no zod and the lists are
 * never written twice.
 */
import { Arch, BUILD_STATES, SCOPES } from '../service/protocol.js';

export interface WebConfig {
  states: string[];
  arches: string[];
  scopes: string[];
}

export function webConfig(): WebConfig {
  return { states: [...BUILD_STATES], arches: [...Arch.options], scopes: [...SCOPES] };
}
