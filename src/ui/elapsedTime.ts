import { useEffect, useRef, useState } from 'react';

/** Seconds as "12 s" or "3 min 5 s". */
export const clock = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(0)} s`);

/** Seconds since `running` last became true (0 while idle), refreshed every second. */
export function useElapsedSeconds(running: boolean): number {
  const started = useRef<number | null>(null);
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!running) {
      started.current = null;
      return;
    }
    started.current ??= performance.now();
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return started.current === null ? 0 : Math.max(0, (now - started.current) / 1000);
}

/**
 * "12 s elapsed, about 30 s left": the time left extrapolates the share done so far; none before a share is
 * done or in the first 2 s (too early to mean anything).
 */
export function elapsedText(elapsed: number, fractionDone: number): string {
  const left = fractionDone > 0 && fractionDone < 1 && elapsed >= 2 ? (elapsed * (1 - fractionDone)) / fractionDone : null;
  return `${clock(elapsed)} elapsed${left !== null ? `, about ${clock(left)} left` : ''}`;
}
