/** Test definitions keep the other files of their test's folder, like inline runs do. */
export const sql = /* sql */ `
ALTER TABLE test_definitions ADD COLUMN files jsonb NOT NULL DEFAULT '{}';
`;
