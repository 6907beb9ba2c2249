/**
 * An action the signed-in role may lack. When the role is enough it renders as
 * given; otherwise disabled, with a tooltip saying which role it needs — on hover,
 * and on keyboard focus (the wrapper takes focus, as a disabled button cannot).
 */
import { useId, type ButtonHTMLAttributes, type ReactElement, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import type { Role } from '../api/types';
import { useCan } from '../hooks/use-session';

export interface Guard {
  /** Why the action is not allowed, or null when it is. */
  reason: string | null;
  /** The tooltip's id, for the action's `aria-describedby` (undefined when allowed). */
  describedBy: string | undefined;
}

export function Guarded({ needs, children }: { needs: Role; children: (guard: Guard) => ReactElement }) {
  const { reason } = useCan(needs);
  const id = useId();
  const element = children({ reason, describedBy: reason ? id : undefined });
  if (!reason) return element;
  return (
    <span className="tooltip-host guarded" tabIndex={0} aria-describedby={id}>
      {element}
      <span role="tooltip" id={id}>
        {reason}
      </span>
    </span>
  );
}

/** A button that needs a role: disabled with the tooltip when the signed-in role is not enough. */
export function GuardedButton({ needs, disabled, ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { needs: Role }) {
  return <Guarded needs={needs}>{(guard) => <button {...props} disabled={guard.reason !== null || disabled} aria-describedby={guard.describedBy} />}</Guarded>;
}

/** A link to a page whose purpose needs a role (New definition): a disabled link with the tooltip when the role is not enough. */
export function GuardedLink({ needs, to, className, children }: { needs: Role; to: string; className?: string; children: ReactNode }) {
  return (
    <Guarded needs={needs}>
      {(guard) =>
        guard.reason ? (
          <a className={className} role="link" aria-disabled="true" aria-describedby={guard.describedBy}>
            {children}
          </a>
        ) : (
          <Link className={className} to={to}>
            {children}
          </Link>
        )
      }
    </Guarded>
  );
}
