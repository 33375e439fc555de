/**
 * Keys: key-change warnings first (they need a decision), own keys and their backups, import,
 * Autocrypt Setup Messages, the WKD export, and contacts' keys.
 */
import { useCallback } from 'react';
import { useApp } from '../app-context.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { PageHeading } from '../components/PageHeading.tsx';
import { useBridgeEvent } from '../hooks/useBridgeEvent.ts';
import { useLoad } from '../hooks/useLoad.ts';
import { KeyWarnings } from '../keys/KeyWarnings.tsx';
import { OwnKeys } from '../keys/OwnKeys.tsx';
import { ImportKey } from '../keys/ImportKey.tsx';
import { SetupMessageImport } from '../keys/SetupMessageImport.tsx';
import { WkdExport } from '../keys/WkdExport.tsx';
import { ContactKeys } from '../keys/ContactKeys.tsx';

export function KeysPage() {
  const { bridge } = useApp();
  const keys = useLoad(() => bridge.listKeys(), [bridge]);
  const warnings = useLoad(() => bridge.keyWarnings(), [bridge]);
  const reload = useCallback(async () => {
    await Promise.all([keys.reload(), warnings.reload()]);
  }, [keys, warnings]);
  useBridgeEvent('key-change', () => void reload());

  const all = keys.data ?? [];
  return (
    <section>
      <PageHeading>Keys</PageHeading>
      <ErrorText message={keys.error ?? warnings.error} />
      <KeyWarnings warnings={warnings.data ?? []} onChanged={reload} />
      <OwnKeys keys={all.filter((k) => k.own)} onChanged={reload} />
      <ImportKey onChanged={reload} />
      <SetupMessageImport onChanged={reload} />
      <WkdExport />
      <ContactKeys keys={all.filter((k) => !k.own)} onChanged={reload} />
    </section>
  );
}
