/** For domain owners: the `.well-known/openpgpkey` tree of your keys as a .zip to upload. */
import { useId, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { downloadBytes } from '../download.ts';
import { fileSafe } from '../format.ts';
import { useAction } from '../hooks/useAction.ts';
import { wkdZipEntries } from '../wkd-files.ts';
import { createZip } from '../zip.ts';

export function WkdExport() {
  const { bridge, status, toast } = useApp();
  const id = useId();
  const firstDomain = status?.accounts[0]?.email.split('@')[1] ?? '';
  const [domain, setDomain] = useState(firstDomain);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const d = domain.trim().toLowerCase();
    const tree = await action.run(() => bridge.exportWkd(d));
    if (!tree) return;
    const entries = wkdZipEntries(tree);
    if (!entries.some((e) => e.path.includes('/hu/'))) {
      toast(`None of your keys has an address at ${d}.`, 'error');
      return;
    }
    downloadBytes(`wkd-${fileSafe(d)}.zip`, createZip(entries), 'application/zip');
    toast(`Saved wkd-${fileSafe(d)}.zip (${entries.length} files).`, 'success');
  };

  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Web Key Directory (for domain owners)</h2>
      <p className="small">
        Let others find your public keys on your own web server: the .zip holds a <code>.well-known</code>{' '}
        folder to unpack at the web root of <code>https://your-domain/</code> (the WKD direct method).
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="field">
          <label htmlFor={`${id}-domain`}>Domain</label>
          <div className="inline">
            <input id={`${id}-domain`} value={domain} onChange={(e) => setDomain(e.target.value)} />
            <button type="submit" disabled={action.busy || !domain.trim()}>
              Download WKD folder (.zip)
            </button>
          </div>
        </div>
        <ErrorText message={action.error} />
      </form>
    </section>
  );
}
