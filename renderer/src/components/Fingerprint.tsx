/** A key fingerprint in groups of four (read aloud group by group). */
import { fingerprintGroups } from '../format.ts';

export function Fingerprint({ value, label }: { value: string; label?: string }) {
  const groups = fingerprintGroups(value);
  const half = Math.ceil(groups.length / 2);
  return (
    <code
      className="fingerprint"
      aria-label={`${label ?? 'Fingerprint'} ${groups.join(' ')}`}
      data-fpr={value}
    >
      <span aria-hidden="true">{groups.slice(0, half).join(' ')}</span>{' '}
      <span aria-hidden="true">{groups.slice(half).join(' ')}</span>
    </code>
  );
}
