/** Shapes of sessions, tokens and login links (validate requests, document `/openapi.json`). */
import { z } from '@hono/zod-openapi';
import { RoleSchema } from '../core/schemas/auth.js';

export { CreateTokenSchema, LoginSchema, TokenRefParam } from '../core/schemas/auth.js';

export const IdentitySchema = z
  .object({
    name: z.string().openapi({ description: "The token's name (`admin` for the one the first start creates)." }),
    role: RoleSchema,
    tokenId: z.string().openapi({ description: "The token's id (never its secret)." }),
    via: z.enum(['bearer', 'cookie']).openapi({ description: 'How the caller authenticated.' }),
  })
  .openapi('Identity', { description: 'Who is calling.' });

export const TokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: RoleSchema,
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: 'Updated at most once a minute.' }),
    revokedAt: z.string().nullable(),
  })
  .openapi('Token', { description: 'An API token, without its secret (stored only as a hash).' });

export const CreatedTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: RoleSchema,
    createdAt: z.string(),
    token: z.string().openapi({ description: 'The secret (`topas_…`). Shown this once; topas keeps only its hash.' }),
  })
  .openapi('CreatedToken');

export const LoginLinkSchema = z
  .object({ url: z.string().openapi({ description: 'Open it in a browser within 15 minutes; it works once.', example: 'http://127.0.0.1:4000/?token=…' }) })
  .openapi('LoginLink');
