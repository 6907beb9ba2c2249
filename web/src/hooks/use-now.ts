import { useEffect, useState } from 'react';

/** The current time, re-read every `intervalMs`, so relative times ("5 s ago") stay true. */
export function useNow(intervalMs = 5000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
