/** Tells the navigation's warning count to refresh after the user resolved a key change. */
export const KEY_WARNINGS_CHANGED = 'lockbridge:key-warnings-changed';

export function signalKeyWarningsChanged(): void {
  window.dispatchEvent(new Event(KEY_WARNINGS_CHANGED));
}
