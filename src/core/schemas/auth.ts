/** Request shapes of sessions and tokens: logging in, creating and naming tokens. */
import { z } from 'zod';
import { ROLES } from '../roles.js';
import { TOKEN_NAME } from '../token.js';
import { got, string, text } from './text.js';

/** One of the roles, in order. */
export const RoleSchema = z
  .enum(ROLES, { error: (iss) => `must be one of ${ROLES.join(', ')}, got ${got(iss.input)}` })
  .meta({ description: 'viewer < runner < editor < admin; each role can do what the ones before it can.' });

/** `POST /api/session`: a token or a login URL's one-time code. */
export const LoginSchema = z
  .strictObject({ token: text(512).meta({ description: 'An API token, or the one-time code of a login URL (`?token=…`).' }) })
  .meta({ id: 'Login' });

/** `POST /api/tokens`. */
export const CreateTokenSchema = z
  .strictObject({
    name: string()
      .regex(TOKEN_NAME, { error: 'must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit' })
      .meta({ description: 'Unique among tokens that are not revoked.', example: 'ci' }),
    role: RoleSchema,
  })
  .meta({ id: 'CreateToken' });

/** `{idOrName}` of a token in a path. */
export const TokenRefParam = z.object({
  idOrName: text(200).meta({ param: { name: 'idOrName', in: 'path' }, description: 'Token id, or the name of a live token.', example: 'ci' }),
});
