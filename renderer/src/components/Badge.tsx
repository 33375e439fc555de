import type { ReactNode } from 'react';

export function Badge({
  kind = 'neutral',
  children,
}: {
  kind?: 'neutral' | 'ok' | 'warn' | 'error';
  children: ReactNode;
}) {
  return <span className={`badge badge-${kind}`}>{children}</span>;
}
