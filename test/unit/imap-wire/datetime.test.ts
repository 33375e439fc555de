import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatImapDate,
  formatImapDateTime,
  imapDateStart,
  ImapDateError,
  parseImapDate,
  parseImapDateTime,
} from '../../../app/imap/wire/datetime.ts';

describe('IMAP date-time', () => {
  it('parses the RFC 3501 example with its zone', () => {
    const d = parseImapDateTime('17-Jul-1996 02:44:25 -0700');
    assert.equal(d.time, Date.UTC(1996, 6, 17, 9, 44, 25));
    assert.equal(d.offsetMinutes, -420);
    assert.equal(formatImapDateTime(d.time, d.offsetMinutes), '17-Jul-1996 02:44:25 -0700');
  });

  it('accepts a space-padded or one-digit day, any month case', () => {
    const a = parseImapDateTime(' 1-feb-2024 00:00:00 +0000').time;
    assert.equal(a, Date.UTC(2024, 1, 1));
    assert.equal(parseImapDateTime('1-FEB-2024 00:00:00 +0000').time, a);
    assert.equal(parseImapDateTime('01-Feb-2024 05:30:00 +0530').time, a);
  });

  it('formats zero-padded in UTC by default', () => {
    assert.equal(formatImapDateTime(Date.UTC(2026, 10, 3, 9, 5, 7)), '03-Nov-2026 09:05:07 +0000');
    assert.equal(formatImapDateTime(new Date(Date.UTC(2026, 0, 1)), 90), '01-Jan-2026 01:30:00 +0130');
  });

  for (const bad of [
    '17-Jul-1996 02:44:25',
    '32-Jul-1996 02:44:25 -0700',
    '29-Feb-2023 00:00:00 +0000',
    '17-Jux-1996 02:44:25 -0700',
    '17-Jul-96 02:44:25 -0700',
    '17-Jul-1996 24:00:00 -0700',
    '17-Jul-1996 02:60:25 -0700',
    '17-Jul-1996 02:44:25 -0760',
    '"17-Jul-1996 02:44:25 -0700"',
    '',
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseImapDateTime(bad), ImapDateError));
  }

  it('round-trips random instants and zones', () => {
    for (let i = 0; i < 1000; i++) {
      const t = Math.floor((Math.random() * 4e12) / 1000) * 1000;
      const off = (Math.floor(Math.random() * 57) - 28) * 30;
      const s = formatImapDateTime(t, off);
      const p = parseImapDateTime(s);
      assert.equal(p.time, t, s);
      assert.equal(p.offsetMinutes, off);
    }
  });
});

describe('IMAP date (SEARCH)', () => {
  it('parses and formats', () => {
    assert.deepEqual(parseImapDate('1-Feb-1994'), { year: 1994, month: 2, day: 1 });
    assert.deepEqual(parseImapDate('29-feb-2024'), { year: 2024, month: 2, day: 29 });
    assert.equal(formatImapDate({ year: 1994, month: 2, day: 1 }), '1-Feb-1994');
    assert.equal(imapDateStart({ year: 1994, month: 2, day: 1 }), Date.UTC(1994, 1, 1));
    assert.equal(imapDateStart({ year: 1994, month: 2, day: 1 }, 60), Date.UTC(1994, 1, 1) - 3600_000);
  });
  for (const bad of ['29-Feb-2023', '0-Jan-2020', '1-Feb-94', '1 Feb 1994', '1-Feb-1994 ', '123-Feb-1994']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseImapDate(bad), ImapDateError));
  }
});
