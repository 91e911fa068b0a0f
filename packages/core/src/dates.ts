/** Calendar dates as modules record them (an invoice's date, a credit event's, a document's issue date). */

/** YYYY-MM-DD; `isCalendarDate` also requires the date to exist. */
export const CALENDAR_DATE_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/** True for a YYYY-MM-DD date that exists in the proleptic Gregorian calendar (year 0001 to 9999). */
export function isCalendarDate(text: string): boolean {
  const m = CALENDAR_DATE_RE.exec(text);
  if (m === null) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
  return day <= days;
}
