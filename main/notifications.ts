/**
 * OS notifications for what needs the user's attention while the window may be hidden: a contact's
 * key changed, a message could not be sent. Pure text: never message content (subjects, bodies) or
 * secrets — only addresses, short fingerprints and the engine's one-line reason.
 */
import type { BridgeEvent } from '../app/control/contract.ts';

export interface NotificationText {
  title: string;
  body: string;
  /** Where clicking it leads in the window (a renderer route). */
  route: string;
}

/** '0123456789ABCDEF…' → '…89AB CDEF' (the last 8 hex digits, grouped): enough to compare by eye. */
export function shortFingerprint(fpr: string): string {
  const hex = fpr.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  const tail = hex.slice(-8);
  return tail.length === 8 ? `${tail.slice(0, 4)} ${tail.slice(4)}` : tail;
}

const MAX_REASON = 160;

/** The engine's reason, on one line, bounded. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_REASON ? `${flat.slice(0, MAX_REASON - 1)}…` : flat;
}

/** The notification for an event, or null when the event is not one to notify about. */
export function notificationFor(event: BridgeEvent): NotificationText | null {
  if (event.type === 'key-change') {
    const w = event.warning;
    return {
      title: `The key of ${w.email} changed`,
      body:
        `New key …${shortFingerprint(w.newFingerprint)} (was …${shortFingerprint(w.oldFingerprint)}), ` +
        `found via ${w.source}. Check it with ${w.email} before trusting it.`,
      route: 'keys',
    };
  }
  if (event.type === 'send-failed') {
    return {
      title: 'A message could not be sent',
      body: `From ${event.email}: ${oneLine(event.reason) || 'sending failed'}. It is kept in the outbox.`,
      route: 'outbox',
    };
  }
  return null;
}

export interface Notifier {
  isSupported(): boolean;
  show(text: NotificationText): void;
}

/** Subscribes to the engine's events and shows a notification for each one that deserves it. */
export function wireNotifications(
  subscribe: (listener: (e: BridgeEvent) => void) => () => void,
  notifier: Notifier,
): () => void {
  return subscribe((event) => {
    const text = notificationFor(event);
    if (text && notifier.isSupported()) notifier.show(text);
  });
}
