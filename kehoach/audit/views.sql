-- Views and macros of the kehoach database.
--
-- Created, in this order, in the audit's in-memory database and in the
-- database shipped with the package (data/kehoach.duckdb), after every table
-- has been loaded. The audit rules (kehoach/audit/rules/*.sql) read the tables
-- and the views below, so any rule can be re-run on the shipped file as is.
-- Only tables every package has are used here (no optional resource).

-- ---------------------------------------------------------------------------
-- Macros
-- ---------------------------------------------------------------------------

-- Precision of a figure as the document wrote it, in million VND: one unit of
-- its last written decimal place ('17.017' -> 1, '8.272,20' -> 0.01,
-- '256.785,7' -> 0.1, '1,5' in an appendix in billion VND -> 100). NULL for a
-- dash or a zero, which state no precision. Half of the coarsest precision
-- among the figures compared is the rounding tolerance of a comparison.
CREATE OR REPLACE MACRO stated_unit(amount, amount_text) AS
    CASE WHEN regexp_matches(amount_text, '[1-9]') THEN
        CAST(round(abs(CAST(amount AS DOUBLE))
                   / CAST(regexp_replace(amount_text, '[^0-9]', '', 'g') AS DOUBLE), 6) AS DECIMAL(20, 6))
    END;

-- Human names of a budget column (budget level x expenditure type).
CREATE OR REPLACE MACRO budget_column_vi(budget_level, expenditure_type) AS
    CASE WHEN budget_level = 'all' AND expenditure_type = 'all' THEN 'tổng cộng'
    ELSE concat_ws(', ',
        CASE budget_level WHEN 'province' THEN 'ngân sách tỉnh' WHEN 'district' THEN 'ngân sách huyện'
                          WHEN 'commune' THEN 'ngân sách xã' WHEN 'all' THEN 'mọi cấp ngân sách' END,
        CASE expenditure_type WHEN 'recurrent' THEN 'chi thường xuyên' WHEN 'investment' THEN 'chi đầu tư phát triển'
                              WHEN 'all' THEN 'mọi loại chi' END,
        CASE WHEN budget_level = 'unspecified' AND expenditure_type = 'unspecified' THEN 'kinh phí' END)
    END;

CREATE OR REPLACE MACRO budget_column_en(budget_level, expenditure_type) AS
    CASE WHEN budget_level = 'all' AND expenditure_type = 'all' THEN 'grand total'
    ELSE concat_ws(', ',
        CASE budget_level WHEN 'province' THEN 'province budget' WHEN 'district' THEN 'district budget'
                          WHEN 'commune' THEN 'commune budget' WHEN 'all' THEN 'all budget levels' END,
        CASE expenditure_type WHEN 'recurrent' THEN 'recurrent' WHEN 'investment' THEN 'development investment'
                              WHEN 'all' THEN 'all expenditure types' END,
        CASE WHEN budget_level = 'unspecified' AND expenditure_type = 'unspecified' THEN 'amount' END)
    END;

-- ---------------------------------------------------------------------------
-- Views the audit rules share (also useful to check figures by hand)
-- ---------------------------------------------------------------------------

-- Budget lines with their item's appendix, group and area, and their precision as written.
CREATE OR REPLACE VIEW audit_budget_lines AS
SELECT l.plan_id, l.item_code, i.appendix, i.group_no, i.pillar, l.budget_level, l.expenditure_type,
       l.amount_million_vnd, l.stated_as, l.amount_text,
       stated_unit(l.amount_million_vnd, l.amount_text) AS unit, l.source_line
FROM budget_lines l
JOIN budget_items i USING (plan_id, item_code);

-- Per group and budget column: how many lines state an amount, their sum and coarsest precision.
CREATE OR REPLACE VIEW audit_budget_group_sums AS
SELECT plan_id, appendix, group_no, budget_level, expenditure_type,
       count(*) AS lines, sum(amount_million_vnd) AS lines_sum, max(unit) AS lines_unit
FROM audit_budget_lines
WHERE group_no IS NOT NULL
GROUP BY ALL;

-- Per budget appendix and column: the lines (count, sum, coarsest precision) and the
-- grand total as stated on the first totals row ('grand'); either side may be missing.
CREATE OR REPLACE VIEW audit_budget_columns AS
WITH sums AS (
    SELECT plan_id, appendix, budget_level, expenditure_type,
           count(*) AS lines, sum(amount_million_vnd) AS lines_sum, max(unit) AS lines_unit
    FROM audit_budget_lines
    GROUP BY ALL
), grand AS (
    SELECT plan_id, appendix, budget_level, expenditure_type, amount_million_vnd AS stated,
           amount_text AS stated_text, stated_unit(amount_million_vnd, amount_text) AS stated_unit,
           label, source_line
    FROM budget_stated_totals
    WHERE total_id = 'grand' AND budget_level <> 'all'
)
SELECT coalesce(g.plan_id, s.plan_id) AS plan_id, coalesce(g.appendix, s.appendix) AS appendix,
       coalesce(g.budget_level, s.budget_level) AS budget_level,
       coalesce(g.expenditure_type, s.expenditure_type) AS expenditure_type,
       coalesce(s.lines, 0) AS lines, coalesce(s.lines_sum, 0) AS lines_sum, s.lines_unit,
       g.stated, g.stated_text, g.stated_unit, g.label, g.source_line
FROM grand g
FULL JOIN sums s USING (plan_id, appendix, budget_level, expenditure_type);

-- The last year a plan looks at: its plan year or the last year of its investment
-- phasing, whichever is later (NULL when the plan names neither).
CREATE OR REPLACE VIEW audit_plan_horizon AS
WITH years AS (
    SELECT p.plan_id, p.issued_date, p.plan_year,
           greatest(coalesce(p.period_end, p.plan_year), (SELECT max(l.year) FROM investment_lines l WHERE l.plan_id = p.plan_id)) AS horizon_year
    FROM plans p
)
SELECT *, make_date(CAST(horizon_year AS BIGINT), 12, 31) AS horizon_date
FROM years;

-- Every numbered row of the appendix tables. number: the code without the '-2' a
-- repeated number gets; parent and position: '4.7' -> '4' and 7 ('' and 4 for '4');
-- NULL for codes that are not decimal numbers (roman numerals).
CREATE OR REPLACE VIEW audit_numbered_rows AS
WITH numbered AS (
    SELECT plan_id, 'tasks' AS resource, appendix, task_code AS code, task_code_text AS code_text,
           group_no, source_line, json_object('task_code', task_code)::VARCHAR AS row_key
    FROM tasks
    UNION ALL
    SELECT plan_id, 'budget_items', appendix, item_code, item_code_text, group_no, source_line,
           json_object('item_code', item_code)::VARCHAR
    FROM budget_items
    UNION ALL
    SELECT plan_id, 'investments', appendix, item_no, item_no_text, NULL, source_line,
           json_object('item_no', item_no)::VARCHAR
    FROM investments
), split AS (
    SELECT *, regexp_replace(code, '-[0-9]+$', '') AS number,
           CASE WHEN regexp_matches(code, '-[0-9]+$') THEN CAST(regexp_extract(code, '-([0-9]+)$', 1) AS INTEGER)
           END AS repeat
    FROM numbered
)
SELECT *,
       CASE WHEN regexp_matches(number, '^[0-9]+(\.[0-9]+)*$')
            THEN coalesce(regexp_extract(number, '^(.*)\.[0-9]+$', 1), '') END AS parent,
       CASE WHEN regexp_matches(number, '^[0-9]+(\.[0-9]+)*$')
            THEN CAST(regexp_extract(number, '([0-9]+)$', 1) AS INTEGER) END AS position
FROM split;

-- ---------------------------------------------------------------------------
-- Views for readers. The comment above each is its sentence in the package's
-- README (kehoach.package.readme): English, then Vietnamese after 'vi:'.
-- ---------------------------------------------------------------------------

-- Budget (sum of the stated lines) by area and budget column (level × expenditure type, 'all' columns included).
-- vi: Kinh phí (tổng các ô ghi trong văn bản) theo lĩnh vực và cột kinh phí (cấp ngân sách × loại chi, kể cả cột 'tổng').
CREATE OR REPLACE VIEW budget_by_pillar_level AS
SELECT l.plan_id, i.pillar, p.name_vi AS pillar_name_vi, p.name_en AS pillar_name_en,
       l.budget_level, l.expenditure_type,
       count(DISTINCT l.item_code) AS items, count(*) AS lines,
       sum(l.amount_million_vnd) AS amount_million_vnd
FROM budget_lines l
JOIN budget_items i USING (plan_id, item_code)
LEFT JOIN pillars p ON p.plan_id = i.plan_id AND p.pillar_id = i.pillar
GROUP BY ALL
ORDER BY l.plan_id, min(i.source_line), l.budget_level, l.expenditure_type;

-- Budget by budget column: the sum of the lines next to the grand total as stated.
-- vi: Kinh phí theo cột: tổng các dòng bên cạnh tổng cộng văn bản ghi.
CREATE OR REPLACE VIEW budget_by_level AS
SELECT c.plan_id, c.appendix, c.budget_level, c.expenditure_type,
       c.lines, c.lines_sum AS lines_million_vnd, c.stated AS stated_total_million_vnd,
       c.stated_text AS stated_total_text
FROM audit_budget_columns c
ORDER BY ALL;

-- Each budgeted item with its total (sum of its stated lines) and lead units.
-- vi: Mỗi nhiệm vụ có kinh phí, với tổng kinh phí (tổng các ô của nó) và đơn vị chủ trì.
CREATE OR REPLACE VIEW budget_item_totals AS
SELECT i.plan_id, i.item_code, i.group_no, i.pillar, i.name, i.units_text,
       (SELECT string_agg(coalesce(a.name_vi, m.mention), '; ' ORDER BY m.mention_no)
          FROM budget_item_agencies m LEFT JOIN agencies a USING (agency_id)
         WHERE m.plan_id = i.plan_id AND m.item_code = i.item_code) AS lead_agencies,
       count(l.item_code) AS lines,
       sum(l.amount_million_vnd) AS amount_million_vnd,
       i.source_line
FROM budget_items i
LEFT JOIN budget_lines l USING (plan_id, item_code)
GROUP BY ALL
ORDER BY i.plan_id, i.source_line;

-- Tasks with each agency named in their agency cells, resolved where possible.
-- vi: Nhiệm vụ với từng cơ quan được nêu trong ô chủ trì, phối hợp (đã nhận diện khi có thể).
CREATE OR REPLACE VIEW tasks_with_agencies AS
SELECT t.plan_id, t.task_code, t.group_no, t.pillar, t.name AS task, t.deadline_text, t.deadline_kind,
       t.deadline_date, m.role, m.mention_no, m.mention, m.agency_id,
       a.name_vi AS agency_name_vi, a.name_en AS agency_name_en, a.level AS agency_level, a.kind AS agency_kind,
       t.source_line
FROM tasks t
LEFT JOIN task_agencies m USING (plan_id, task_code)
LEFT JOIN agencies a USING (agency_id)
ORDER BY t.plan_id, t.source_line, m.mention_no;

-- Each development-investment item: its stated total next to the sum of its yearly phasing.
-- vi: Mỗi dự án đầu tư phát triển: tổng văn bản ghi bên cạnh tổng phân kỳ theo năm.
CREATE OR REPLACE VIEW investment_phasing AS
SELECT i.plan_id, i.item_no, i.name, i.stated_total_million_vnd,
       sum(l.amount_million_vnd) AS phased_million_vnd, min(l.year) AS first_year, max(l.year) AS last_year,
       i.source_line
FROM investments i
LEFT JOIN investment_lines l USING (plan_id, item_no)
GROUP BY ALL
ORDER BY i.plan_id, i.source_line;

-- The plans of each series (plans.previous_plan_id), in order: series_id is its first plan in the package,
-- position 1, 2, … the plan's place in it (two plans following one plan share a position).
-- vi: Các kế hoạch của mỗi chuỗi (kế hoạch kế tiếp kế hoạch trước), theo thứ tự: series_id là kế hoạch đầu
-- của chuỗi, position là vị trí của kế hoạch trong chuỗi.
CREATE OR REPLACE VIEW series_plans AS
WITH RECURSIVE chain(series_id, plan_id, position) AS (
    SELECT plan_id, plan_id, 1 FROM plans
    WHERE previous_plan_id IS NULL AND plan_id IN (SELECT previous_plan_id FROM plans)
    UNION ALL
    SELECT c.series_id, p.plan_id, c.position + 1 FROM chain c JOIN plans p ON p.previous_plan_id = c.plan_id
)
SELECT c.series_id, c.position, c.plan_id, p.number, p.plan_year, p.period_start, p.period_end, p.issued_date,
       max(c.position) OVER (PARTITION BY c.series_id) AS series_length
FROM chain c JOIN plans p USING (plan_id)
ORDER BY c.series_id, c.position;

-- Each series' tasks across years: one row per task of each plan of the series, threaded through
-- task_lineage (thread_id: the plan and code of the task where it first appears). change is 'first'
-- in the series' first plan, else task_lineage's (same, renumbered, reworded, …, new);
-- in_every_plan: the task is in a plan at every position of the series; dropped_next: a next plan drops it.
-- vi: Nhiệm vụ của mỗi chuỗi kế hoạch qua các năm: mỗi nhiệm vụ được nối với nhiệm vụ nó tiếp nối
-- (task_lineage), với loại thay đổi (giữ nguyên, đánh số lại, sửa lời, mới), có mặt ở mọi kế hoạch hay bị bỏ ở kế hoạch sau.
CREATE OR REPLACE VIEW series_tasks AS
WITH RECURSIVE thread(series_id, thread_id, plan_id, task_code) AS (
    SELECT s.series_id, s.plan_id || ' ' || t.task_code, t.plan_id, t.task_code
    FROM series_plans s JOIN tasks t USING (plan_id)
    WHERE s.position = 1
    UNION ALL
    SELECT s.series_id, l.plan_id || ' ' || l.task_code, l.plan_id, l.task_code
    FROM task_lineage l JOIN series_plans s USING (plan_id)
    WHERE l.change = 'new'
    UNION ALL
    SELECT th.series_id, th.thread_id, l.plan_id, l.task_code
    FROM thread th
    JOIN task_lineage l ON l.previous_plan_id = th.plan_id AND l.previous_task_code = th.task_code
    WHERE l.task_code IS NOT NULL
)
SELECT th.series_id, th.thread_id, s.position, th.plan_id, s.plan_year, th.task_code, t.pillar, t.name,
       coalesce(l.change, 'first') AS change, l.previous_task_code, l.match_score,
       count(DISTINCT s.position) OVER (PARTITION BY th.thread_id) = s.series_length AS in_every_plan,
       EXISTS (SELECT 1 FROM task_lineage d WHERE d.change = 'dropped' AND d.previous_plan_id = th.plan_id
                                              AND d.previous_task_code = th.task_code) AS dropped_next,
       t.deadline_text, t.deadline_date, t.source_line
FROM thread th
JOIN series_plans s USING (series_id, plan_id)
JOIN tasks t USING (plan_id, task_code)
LEFT JOIN task_lineage l ON l.plan_id = th.plan_id AND l.task_code = th.task_code
ORDER BY th.series_id, th.thread_id, s.position;

-- Number of audit findings per plan and severity.
-- vi: Số kết quả kiểm tra theo kế hoạch và mức độ.
CREATE OR REPLACE VIEW findings_by_severity AS
SELECT plan_id, severity, count(*) AS findings
FROM findings
GROUP BY plan_id, severity
ORDER BY plan_id, CASE severity WHEN 'error' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END;

-- Development investment per year: what the plans phase into each year, over all their items.
-- vi: Vốn đầu tư phát triển theo năm: tổng phân kỳ của mọi dự án vào từng năm.
CREATE OR REPLACE VIEW investment_by_year AS
SELECT plan_id, year, count(DISTINCT item_no) AS items, sum(amount_million_vnd) AS amount_million_vnd
FROM investment_lines
GROUP BY ALL
ORDER BY plan_id, year;

-- Budget by area and budget level, expenditure types summed (cells of one level and one type: the
-- 'all' columns restate their parts and are left out, so nothing is counted twice).
-- vi: Kinh phí theo lĩnh vực và cấp ngân sách, cộng mọi loại chi (chỉ các ô của một cấp và một loại chi:
-- cột 'tổng' nhắc lại các phần của nó nên không cộng, không tính hai lần).
CREATE OR REPLACE VIEW budget_by_pillar_and_level AS
SELECT l.plan_id, i.pillar, p.name_vi AS pillar_name_vi, p.name_en AS pillar_name_en, l.budget_level,
       count(DISTINCT l.item_code) AS items, sum(l.amount_million_vnd) AS amount_million_vnd
FROM budget_lines l
JOIN budget_items i USING (plan_id, item_code)
LEFT JOIN pillars p ON p.plan_id = i.plan_id AND p.pillar_id = i.pillar
WHERE l.budget_level <> 'all' AND l.expenditure_type <> 'all'
GROUP BY ALL
ORDER BY l.plan_id, min(i.source_line), l.budget_level;
