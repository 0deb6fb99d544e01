/**
 * The report's pure pieces (functions/cli/report.ts): CSV cells a spreadsheet would evaluate are defused, and the
 * table fits the terminal.
 */
import { describe, expect, it } from 'vitest';
import { csvCell } from '../../functions/cli/report.ts';

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
