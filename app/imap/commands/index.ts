/** The command table: name → descriptor (one file per command). */
import type { CommandSpec } from '../command.ts';
import { append } from './append.ts';
import { authenticate } from './authenticate.ts';
import { cancelupdate } from './cancelupdate.ts';
import { capability } from './capability.ts';
import { check } from './check.ts';
import { close } from './close.ts';
import { compress } from './compress.ts';
import { copy, move } from './copy.ts';
import { create } from './create.ts';
import { del } from './delete.ts';
import { enable } from './enable.ts';
import { expunge } from './expunge.ts';
import { fetch } from './fetch.ts';
import { id } from './id.ts';
import { idle } from './idle.ts';
import { list, lsub } from './list.ts';
import { login } from './login.ts';
import { logout } from './logout.ts';
import { namespace } from './namespace.ts';
import { noop } from './noop.ts';
import { rename } from './rename.ts';
import { search } from './search.ts';
import { examine, select } from './select.ts';
import { sort } from './sort.ts';
import { starttls } from './starttls.ts';
import { status } from './status.ts';
import { store } from './store.ts';
import { subscribe, unsubscribe } from './subscribe.ts';
import { thread } from './thread.ts';
import { unselect } from './unselect.ts';

const ALL: CommandSpec[] = [
  append,
  authenticate,
  cancelupdate,
  capability,
  check,
  close,
  compress,
  copy,
  create,
  del,
  enable,
  examine,
  expunge,
  fetch,
  id,
  idle,
  list,
  login,
  logout,
  lsub,
  move,
  namespace,
  noop,
  rename,
  search,
  select,
  sort,
  starttls,
  status,
  store,
  subscribe,
  thread,
  unselect,
  unsubscribe,
];

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(ALL.map((c) => [c.name, c]));
