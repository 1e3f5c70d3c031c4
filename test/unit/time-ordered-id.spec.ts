import { timeOrderedIds } from '../../src/rules/firing-log/time-ordered-id';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

describe('timeOrderedIds', () => {
  it('are version 7 UUIDs holding their time, in the order made, batch after batch', () => {
    const before = Date.now();
    const batches = Array.from({ length: 20 }, (_, i) => timeOrderedIds(i * 50));
    const after = Date.now();
    const ids = batches.flatMap((b) => b.ids);
    expect(ids).toHaveLength(50 * 190);
    for (const id of ids) {
      expect(id).toMatch(V7);
      expect(msOf(id)).toBeGreaterThanOrEqual(before);
      expect(msOf(id)).toBeLessThanOrEqual(after + 3); // 4,096 an ms at most, then the next ms
    }
    for (const { ids: batch, at } of batches.slice(1)) expect(msOf(batch[0])).toBe(at.getTime());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length); // random bits differ
    const variants = new Set(ids.map((id) => id[19]));
    expect([...variants].sort()).toEqual(['8', '9', 'a', 'b']);
  });

  it('take the time now for an empty batch', () => {
    const { ids, at } = timeOrderedIds(0);
    expect(ids).toEqual([]);
    expect(Math.abs(at.getTime() - Date.now())).toBeLessThan(1000);
  });
});
