/** Shapes of sessions, tokens and login links (validate requests, document `/openapi.json`). */
import { z } from '@hono/zod-openapi';
import { ROLES } from '../core/roles.js';
import { TOKEN_NAME } from '../core/token.js';

const got = (input: unknown): string => (input === undefined ? 'nothing' : JSON.stringify(input));

const RoleSchema = z
  .enum(ROLES, { error: (iss) => `must be one of ${ROLES.join(', ')}, got ${got(iss.input)}` })
  .openapi({ description: 'viewer < runner < editor < admin; each role can do what the ones before it can.' });

export const IdentitySchema = z
  .object({
    name: z.string().openapi({ description: "The token's name (`admin` for the one the first start creates)." }),
    role: RoleSchema,
    tokenId: z.string().openapi({ description: "The token's id (never its secret)." }),
    via: z.enum(['bearer', 'cookie']).openapi({ description: 'How the caller authenticated.' }),
  })
  .openapi('Identity', { description: 'Who is calling.' });

export const LoginSchema = z
  .strictObject({
    token: z
      .string({ error: (iss) => `must be a string, got ${got(iss.input)}` })
      .min(1, { error: 'must not be empty' })
      .max(512, { error: 'must be at most 512 characters' })
      .openapi({ description: 'An API token, or the one-time code of a login URL (`?token=…`).' }),
  })
  .openapi('Login');

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

export const CreateTokenSchema = z
  .strictObject({
    name: z
      .string({ error: (iss) => `must be a string, got ${got(iss.input)}` })
      .regex(TOKEN_NAME, { error: 'must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit' })
      .openapi({ description: 'Unique among tokens that are not revoked.', example: 'ci' }),
    role: RoleSchema,
  })
  .openapi('CreateToken');

export const CreatedTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: RoleSchema,
    createdAt: z.string(),
    token: z.string().openapi({ description: 'The secret (`topas_…`). Shown this once; topas keeps only its hash.' }),
  })
  .openapi('CreatedToken');

export const TokenRefParam = z.object({
  idOrName: z.string().openapi({ param: { name: 'idOrName', in: 'path' }, description: 'Token id, or the name of a live token.', example: 'ci' }),
});

export const LoginLinkSchema = z
  .object({ url: z.string().openapi({ description: 'Open it in a browser within 15 minutes; it works once.', example: 'http://127.0.0.1:4000/?token=…' }) })
  .openapi('LoginLink');
