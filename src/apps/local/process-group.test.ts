import { spawn } from 'node:child_process';
import { describe, it } from 'vitest';
import { groupMembers, isAlive, isRecordedGroupAlive, recordProcess, stopRecordedGroup } from './process-group.js';

/** Recorded process groups are signalled only while they are still the ones recorded. */
describe('process groups', () => {
  it('stops a recorded group (leader and children) and leaves a process whose start time differs alone', async ({ expect }) => {
    // A leader that starts a child in its group, as `sh -c` or `npm start` does.
    const leader = spawn(process.execPath, ['-e', "require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); setInterval(() => {}, 1000)"], { detached: true, stdio: 'ignore' });
    const pid = leader.pid!;
    const record = recordProcess(pid, 'node -e ...');
    await expect.poll(() => groupMembers(pid).length).toBe(2);
    expect(isRecordedGroupAlive(record)).toBe(true);

    // The same pid with another start time is somebody else's process now.
    const impostor = { ...record, startTime: String(Number(record.startTime) + 1) };
    expect(isRecordedGroupAlive(impostor)).toBe(false);
    expect(await stopRecordedGroup(impostor, 1000)).toBe(false);
    expect(isAlive(pid)).toBe(true);

    const members = groupMembers(pid);
    expect(await stopRecordedGroup(record, 1000)).toBe(true);
    expect(members.filter(isAlive)).toEqual([]);
    expect(isRecordedGroupAlive(record)).toBe(false);
  });
});
