// A node:test reporter that writes one JSON line per file- and test-level event, so run-tests.mjs
// can check afterwards that every test a file registered was also reported (a test process that
// ends early with status 0 must not pass silently) and, on a hang, name the files still running.
// Events of a file's own process carry `entryFile`; the runner's per-file events do not.
export default async function* ledger(source) {
  for await (const { type, data } of source) {
    if (!data?.file) continue;
    const file = data.entryFile ?? data.file;
    const own = data.entryFile !== undefined;
    if (!own) {
      if (type === 'test:dequeue') yield line({ e: 'start', file });
      else if (type === 'test:complete')
        yield line({ e: 'end', file, passed: data.details?.passed === true });
    } else if (type === 'test:enqueue') yield line({ e: 'enq', file, id: data.testId });
    else if (type === 'test:complete') yield line({ e: 'done', file, id: data.testId });
  }
}

function line(o) {
  return JSON.stringify(o) + '\n';
}
