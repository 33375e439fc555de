/**
 * SEARCHRES (RFC 5182) and WITHIN (RFC 5032), issue 15 item 16: `RETURN (SAVE)` keeps the result as
 * `$` for FETCH/STORE/SEARCH/COPY (UID or not), MIN/MAX alone save just those; YOUNGER/OLDER
 * compare INTERNALDATE with now. Answers as Dovecot 2.3.19 gives them for the same commands.
 */
import { it } from 'node:test';
import { message, startTestServer } from '../../helpers/imap-transcript.ts';

it('SEARCH RETURN (SAVE), $ in later commands, YOUNGER / OLDER', async () => {
  const s = await startTestServer();
  try {
    const c = await s.login();
    const m = message({});
    for (const date of ['', '', ' "01-Jan-2020 00:00:00 +0000"', ''])
      await c.cmd(`a APPEND INBOX${date} {${m.length}+}\r\n${m}`);
    await c.cmd('s SELECT INBOX');
    await c.expect('c1 CAPABILITY', [
      / WITHIN .*SEARCHRES|SEARCHRES .* WITHIN/,
      'c1 OK Capability completed.',
    ]);
    await c.cmd('t6 STORE 2,4 +FLAGS.SILENT (\\Flagged)');
    await c.expect('t7 SEARCH RETURN (SAVE) FLAGGED', ['t7 OK Search completed.']);
    await c.expect('t8 FETCH $ (UID)', ['* 2 FETCH (UID 2)', '* 4 FETCH (UID 4)', 't8 OK Fetch completed.']);
    await c.expect('t9 SEARCH RETURN (MIN SAVE) ALL', [
      '* ESEARCH (TAG "t9") MIN 1',
      't9 OK Search completed.',
    ]);
    await c.expect('t10 UID FETCH $ (UID)', ['* 1 FETCH (UID 1)', 't10 OK UID Fetch completed.']);
    await c.expect('t11 SEARCH $', ['* SEARCH 1', 't11 OK Search completed.']);
    await c.expect('t12 UID SEARCH RETURN (SAVE COUNT) NOT FLAGGED', [
      '* ESEARCH (TAG "t12") UID COUNT 2',
      't12 OK UID Search completed.',
    ]);
    await c.expect('t13 STORE $ +FLAGS.SILENT (\\Deleted)', ['t13 OK Store completed.']);
    await c.expect('t14 SEARCH DELETED', ['* SEARCH 1 3', 't14 OK Search completed.']);
    await c.expect('t15 SEARCH YOUNGER 3600', ['* SEARCH 1 2 4', 't15 OK Search completed.']);
    await c.expect('t16 SEARCH OLDER 3600', ['* SEARCH 3', 't16 OK Search completed.']);
    await c.expect('t17 SEARCH RETURN (SAVE) BADKEY', [/^t17 BAD /]);
    await c.expect('t18 FETCH $ (UID)', [
      '* 1 FETCH (UID 1)',
      '* 3 FETCH (UID 3)',
      't18 OK Fetch completed.',
    ]);
    // $ follows the messages, not their numbers: after 1 and 3 are expunged it names none.
    await c.expect('t19 EXPUNGE', ['* 3 EXPUNGE', '* 1 EXPUNGE', 't19 OK Expunge completed.']);
    await c.expect('t20 FETCH $ (UID)', ['t20 OK Fetch completed.']);
    // A new SELECT empties $.
    await c.expect('t21 SEARCH RETURN (SAVE) ALL', ['t21 OK Search completed.']);
    await c.cmd('t22 SELECT INBOX');
    await c.expect('t23 UID FETCH $ (UID)', ['t23 OK UID Fetch completed.']);
    c.close();
  } finally {
    await s.close();
  }
});
