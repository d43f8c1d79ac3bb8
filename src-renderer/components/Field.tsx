// A labelled input with its hint and inline error, wired for screen readers.

import { useId, type InputHTMLAttributes } from 'react';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange'> {
  label: string;
  hint?: string;
  error?: string;
  onValue: (value: string) => void;
}

export const inputClass =
  'w-full rounded-lg border border-zinc-300 bg-white px-3 py-2 text-sm shadow-xs outline-none transition focus:border-sky-500 focus:ring-2 focus:ring-sky-500/30 aria-invalid:border-red-500 aria-invalid:focus:ring-red-500/30 dark:border-zinc-700 dark:bg-zinc-900';

export function Field({ label, hint, error, onValue, className = '', ...input }: FieldProps) {
  const id = useId();
  return (
    <div className={className}>
      <label htmlFor={id} className="mb-1 block text-sm font-medium">
        {label}
      </label>
      <input
        id={id}
        {...input}
        onChange={(e) => onValue(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-note`}
        className={inputClass}
      />
      <p id={`${id}-note`} className={`mt-1 text-xs ${error ? 'text-red-700 dark:text-red-400' : 'text-zinc-600 dark:text-zinc-400'}`} role={error ? 'alert' : undefined}>
        {error ?? hint}
      </p>
    </div>
  );
}
