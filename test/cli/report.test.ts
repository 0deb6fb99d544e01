/**
 * The report's pure pieces (functions/cli/report.ts): CSV cells a spreadsheet would evaluate are defused, and the
 * table fits the terminal.
 */
import { describe, expect, it } from 'vitest';
import { csvCell, fitWidths, tableWidth, truncateMiddle, wrapText } from '../../functions/cli/report.ts';

describe('csvCell: OWASP CSV injection', () => {
  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', `"'+1"`],
    ['-2', `"'-2"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\tx', `"'\tx"`],
    ['\rx', `"'\rx"`],
  ])('%j gets a leading quote and is quoted', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('plain cells stay as they are; commas and quotes are quoted, no prefix', () => {
    expect(csvCell('/aws/lambda/x')).toBe('/aws/lambda/x');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "x"')).toBe('"say ""x"""');
    expect(csvCell('a-b=c')).toBe('a-b=c');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(undefined)).toBe('');
  });
});

describe('fitting the table to the terminal', () => {
  it('tableWidth: the terminal columns, else COLUMNS, else 100', () => {
    expect(tableWidth({ isTTY: true, columns: 132 }, {})).toBe(132);
    expect(tableWidth({ isTTY: true, columns: 132 }, { COLUMNS: '80' })).toBe(132);
    expect(tableWidth({ isTTY: false }, { COLUMNS: '80' })).toBe(80);
    expect(tableWidth({ isTTY: false }, {})).toBe(100);
    expect(tableWidth({ isTTY: true }, { COLUMNS: 'wide' })).toBe(100);
  });

  it('truncateMiddle keeps both ends', () => {
    expect(truncateMiddle('/aws/lambda/very-long-function-name', 20)).toBe('/aws/lambd…tion-name');
    expect(truncateMiddle('/aws/lambda/very-long-function-name', 20)).toHaveLength(20);
    expect(truncateMiddle('/short', 20)).toBe('/short');
  });

  it('wrapText breaks at spaces, cuts only a word longer than a line', () => {
    expect(wrapText('at risk: key pending deletion: unreadable from 2026-12-08', 24)).toEqual([
      'at risk: key pending',
      'deletion: unreadable',
      'from 2026-12-08',
    ]);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrapText('', 4)).toEqual(['']);
  });

  it('fitWidths narrows the flexible columns in order, never below their smallest', () => {
    // 10 + 50 + 40 + 2 gaps of 2 = 104; 80 wanted.
    expect(
      fitWidths(
        [10, 50, 40],
        [
          { index: 1, min: 30 },
          { index: 2, min: 20 },
        ],
        80,
      ),
    ).toEqual([10, 30, 36]);
    expect(
      fitWidths(
        [10, 50, 40],
        [
          { index: 1, min: 30 },
          { index: 2, min: 20 },
        ],
        40,
      ),
    ).toEqual([10, 30, 20]);
    expect(fitWidths([10, 20], [{ index: 1, min: 5 }], 100)).toEqual([10, 20]);
  });
});
