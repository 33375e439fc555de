/** Copies a value and says so in the status region. */
import { useApp } from '../app-context.ts';
import { copyText } from '../clipboard.ts';

export function CopyButton({ value, what }: { value: string; what: string }) {
  const { toast } = useApp();
  return (
    <button
      type="button"
      className="button-small"
      aria-label={`Copy ${what}`}
      onClick={() => {
        void copyText(value).then((ok) =>
          toast(
            ok ? `${what} copied.` : `Could not copy the ${what}; select it and copy by hand.`,
            ok ? 'success' : 'error',
          ),
        );
      }}
    >
      Copy
    </button>
  );
}
