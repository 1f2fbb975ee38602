/**
 * Daily patterns of a Chinese city district, as pure functions of the local hour (0-24, China Standard Time).
 * Shapes follow typical published profiles: residential water demand with a sharp morning and a broader evening
 * peak and a night minimum around 3-4 h; road traffic with commute peaks at 8 h and 18 h; PM2.5 high in the
 * morning rush and at night (shallow boundary layer), lowest in the afternoon when the air mixes.
 */

/** UTC+8: the demo city is in Jiangsu; patterns follow its clock, not the machine's time zone. */
export const CHINA_UTC_OFFSET_HOURS = 8;

/** Hours since local midnight, 0 <= h < 24. */
export function localHour(epochMs: number, utcOffsetHours = CHINA_UTC_OFFSET_HOURS): number {
  const h = (epochMs / 3_600_000 + utcOffsetHours) % 24;
  return h < 0 ? h + 24 : h;
}

/** A bell of height 1 centred on `centre` (hours) on the 24-h circle. */
function bump(h: number, centre: number, width: number): number {
  let d = Math.abs(h - centre) % 24;
  if (d > 12) d = 24 - d;
  return Math.exp(-0.5 * (d / width) ** 2);
}

/**
 * Water demand relative to the daily mean (about 1): ~0.45 at night, ~1.6 at the 7:30 morning peak, ~1.45 at
 * the 19:30 evening peak, ~1.1 around noon.
 */
export function waterDemand(h: number): number {
  return (
    0.42 +
    1.15 * bump(h, 7.5, 1.1) +
    0.6 * bump(h, 12, 1.8) +
    0.95 * bump(h, 19.5, 1.7) +
    0.35 * bump(h, 15, 4)
  );
}

/**
 * Main pressure (MPa) for a relative demand: the supply pressure minus friction loss, which grows with the square
 * of the flow. About 0.33 MPa at night, 0.22 MPa at the morning peak: well above the 0.14 MPa service minimum.
 */
export function mainPressure(demand: number, supply = 0.345): number {
  return supply - 0.047 * demand * demand;
}

/** Sewage inflow follows water use with the travel time through the network (about 1.5 h). */
export function sewerInflow(h: number, lagHours = 1.5): number {
  return waterDemand((h - lagHours + 24) % 24);
}

/** Water depth (m) above the bottom of a sewer well for a relative inflow: 0.13-0.29 m, below any main's crown. */
export function sewerLevel(inflow: number, scale = 1): number {
  return scale * (0.08 + 0.13 * inflow);
}

/** Road traffic relative to the daily peak: commute peaks at 8 h and 18 h, a busy day, quiet nights. */
export function traffic(h: number): number {
  const day = 0.55 * bump(h, 13, 3.5);
  return Math.min(1, 0.08 + 0.9 * bump(h, 8, 1.2) + 0.9 * bump(h, 18, 1.4) + day);
}

/** Equivalent traffic noise level, dB(A): about 49 at night, 66 at the rush hours (limit for 4a roads: 70). */
export function trafficNoise(h: number): number {
  return 47.5 + 18 * traffic(h);
}

/** PM2.5 (µg/m³) in late autumn: ~30 in the afternoon, ~60 at the morning rush and before midnight. */
export function pm25(h: number): number {
  return 34 + 18 * bump(h, 8.5, 1.8) + 22 * bump(h, 23, 3) + 12 * bump(h, 3, 3) - 6 * bump(h, 15, 2.5);
}

/** PM10 rides on PM2.5 plus road dust raised by traffic. */
export function pm10(h: number): number {
  return 1.5 * pm25(h) + 20 * traffic(h);
}

/**
 * People in a counter's area relative to its busiest hour: commute and lunch peaks, an evening shopping peak,
 * nearly empty at night.
 */
export function crowdActivity(h: number): number {
  return Math.min(
    1,
    0.03 +
      0.6 * bump(h, 8, 1) +
      0.75 * bump(h, 12.2, 1.2) +
      0.55 * bump(h, 17.8, 1.1) +
      0.85 * bump(h, 20, 1.5),
  );
}

/** Electrical load of offices and homes relative to the peak: working day plus an evening residential peak. */
export function electricalLoad(h: number): number {
  return Math.min(1, 0.25 + 0.55 * bump(h, 10.5, 2.5) + 0.5 * bump(h, 15, 2.5) + 0.6 * bump(h, 20, 1.8));
}

/** Indoor air temperature (°C) of a heated or air-conditioned building: 19-23 over the day. */
export function indoorTemperature(h: number): number {
  return 19.3 + 3 * bump(h, 14.5, 3.5) + 0.6 * bump(h, 20, 2);
}
