-- A small sqlite3 workload for the example reports: a table of 50,000 rows built with a
-- recursive CTE, an index, a grouped query and an in-memory sort.
CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, score REAL, tag TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
INSERT INTO items SELECT i, printf('item-%06d', i), (i * 7919) % 1000 / 10.0,
                         CASE i % 5 WHEN 0 THEN 'red' WHEN 1 THEN 'green' ELSE 'blue' END
FROM n;
CREATE INDEX items_score ON items(score);
SELECT tag, count(*), avg(score) FROM items GROUP BY tag ORDER BY tag;
SELECT count(*) FROM (SELECT name FROM items ORDER BY name DESC LIMIT 1000);
DELETE FROM items WHERE id % 3 = 0;
SELECT count(*) FROM items;
