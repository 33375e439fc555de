/** Loads data through the bridge on mount; `reload()` fetches again. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../bridge-types.ts';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload(): Promise<void>;
  set(data: T): void;
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const alive = useRef(true);
  const fn = useCallback(load, deps);

  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const d = await fn();
      if (!alive.current) return;
      setData(d);
      setError(null);
    } catch (err) {
      if (alive.current) setError(errorMessage(err));
    } finally {
      if (alive.current) setLoading(false);
    }
  }, [fn]);

  useEffect(() => {
    alive.current = true;
    void reload();
    return () => {
      alive.current = false;
    };
  }, [reload]);

  return { data, error, loading, reload, set: setData };
}
