/** A key fingerprint in groups of four (screen readers read it group by group). */
import { fingerprintGroups } from '../format.ts';

export function Fingerprint({ value, label }: { value: string; label?: string }) {
  const groups = fingerprintGroups(value);
  const half = Math.ceil(groups.length / 2);
  return (
    <span className="fingerprint-wrap">
      <span className="visually-hidden">{label ?? 'Fingerprint'}: </span>
      <code className="fingerprint" data-fpr={value}>
        <span>{groups.slice(0, half).join(' ')}</span> <span>{groups.slice(half).join(' ')}</span>
      </code>
    </span>
  );
}
