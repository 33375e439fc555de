/**
 * Import keys: paste armored text or pick a file (public keys of contacts, or your secret key).
 * A passphrase-protected secret key (gpg and Thunderbird export them so) makes the bridge answer
 * 'passphrase-required': then a passphrase field appears and the import is sent again with it.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.ts';
import { errorCode } from '../bridge-types.ts';
import { ErrorText } from '../components/ErrorText.tsx';
import { useAction } from '../hooks/useAction.ts';

export function ImportKey({ onChanged }: { onChanged(): Promise<void> }) {
  const { bridge, toast } = useApp();
  const id = useId();
  const [text, setTextValue] = useState('');
  const [needsPassphrase, setNeedsPassphrase] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const passphraseRef = useRef<HTMLInputElement>(null);
  const action = useAction();

  // another key: whether it is protected is not known yet
  const setText = (value: string) => {
    setTextValue(value);
    setNeedsPassphrase(false);
    setPassphrase('');
  };

  useEffect(() => {
    if (needsPassphrase) passphraseRef.current?.focus();
  }, [needsPassphrase]);

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    const str = new TextDecoder().decode(bytes);
    if (str.includes('-----BEGIN PGP')) setText(str);
    else {
      // the control API takes armored text only
      setText('');
      toast(
        `${file.name} is not an armored key (it has no "BEGIN PGP" block). Export it with --armor.`,
        'error',
      );
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    const imported = await action.run(async () => {
      try {
        return await bridge.importKey(text, needsPassphrase ? passphrase : undefined);
      } catch (err) {
        if (errorCode(err) !== 'passphrase-required') throw err;
        setNeedsPassphrase(true);
        return 'ask' as const;
      }
    });
    if (!imported || imported === 'ask') return;
    setText('');
    toast(
      imported.length === 0
        ? 'Nothing new was imported.'
        : `Imported ${imported.map((k) => `${k.email}${k.own ? ' (your key)' : ''}`).join(', ')}.`,
      'success',
    );
    await onChanged();
  };

  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Import a key</h2>
      <form onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor={`${id}-text`}>Armored key</label>
          <textarea
            id={`${id}-text`}
            rows={5}
            spellCheck={false}
            placeholder="-----BEGIN PGP PUBLIC KEY BLOCK-----"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-file`}>Or pick a key file</label>
          <input
            id={`${id}-file`}
            type="file"
            accept=".asc,.pgp,.gpg,.key,text/plain"
            onChange={(e) => void onFile(e.target.files?.[0])}
          />
        </div>
        {needsPassphrase && (
          <div className="field">
            <label htmlFor={`${id}-pass`}>Passphrase of the secret key</label>
            <input
              id={`${id}-pass`}
              ref={passphraseRef}
              type="password"
              autoComplete="off"
              aria-describedby={`${id}-pass-hint`}
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
            />
            <p id={`${id}-pass-hint`} className="small">
              This secret key is protected with a passphrase (as gpg and Thunderbird export keys). Lockbridge
              unlocks it once and keeps it in its encrypted store; the passphrase is not kept.
            </p>
          </div>
        )}
        <ErrorText message={action.error} />
        <button type="submit" disabled={action.busy || !text.trim() || (needsPassphrase && !passphrase)}>
          {action.busy ? 'Importing…' : 'Import key'}
        </button>
      </form>
    </section>
  );
}
