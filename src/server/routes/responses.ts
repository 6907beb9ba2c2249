/** Error responses shared by the route declarations (documented once, answered by `onError`). */
import { ErrorSchema } from '../schemas.js';

const error = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

export const badRequest = error('Invalid input; `error.message` names the field, `error.details.issues` lists every problem.');
export const notFound = error('No such resource.');
export const conflict = error('The request conflicts with the current state.');
