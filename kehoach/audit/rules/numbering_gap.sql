-- id: numbering_gap
-- severity: warning
-- scope: plan
-- reads: tasks, budget_items, budget_stated_totals, investments
-- title_vi: Số thứ tự bị nhảy cóc
-- title_en: Numbering skips a number
-- message_vi: Phụ lục {appendix} ({resource}): {jump_vi}, thiếu số {missing}.
-- message_en: Appendix {appendix} ({resource}): {jump_en}; {missing} is missing.
--
-- Within each appendix table, the numbers under one parent (the groups, or the
-- items of one group) must run 1, 2, 3, … A jump (4.5 then 4.7) or a first
-- number above 1 may be a deleted row. Group numbers come from the group rows
-- (subtotals) and from the items' group numbers. Roman numerals are not checked.
WITH numbers AS (
    SELECT plan_id, resource, appendix, parent, position, number, row_key, source_line
    FROM audit_numbered_rows
    WHERE position IS NOT NULL AND repeat IS NULL
    UNION ALL
    SELECT plan_id, resource, appendix, '', group_no, CAST(group_no AS VARCHAR),
           json_object('group_no', group_no)::VARCHAR, min(source_line)
    FROM audit_numbered_rows
    WHERE group_no IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT plan_id, 'budget_items', appendix, '', group_no, CAST(group_no AS VARCHAR),
           json_object('group_no', group_no)::VARCHAR, min(source_line)
    FROM budget_stated_totals
    WHERE scope = 'group' AND group_no IS NOT NULL
    GROUP BY ALL
), distinct_numbers AS (
    -- a group that is also an item ('10') is one number
    SELECT plan_id, resource, appendix, parent, position,
           min(number) AS number, min(row_key) AS row_key, min(source_line) AS source_line
    FROM numbers
    GROUP BY plan_id, resource, appendix, parent, position
), ordered AS (
    SELECT *, lag(position) OVER (PARTITION BY plan_id, resource, appendix, parent ORDER BY position) AS prev
    FROM distinct_numbers
)
SELECT plan_id, resource, row_key, source_line, appendix, number,
       CASE WHEN prev IS NULL THEN 'số thứ tự bắt đầu từ ' || number
            ELSE 'số thứ tự nhảy từ ' || concat_ws('.', nullif(parent, ''), prev) || ' sang ' || number END AS jump_vi,
       CASE WHEN prev IS NULL THEN 'numbering starts at ' || number
            ELSE 'numbering jumps from ' || concat_ws('.', nullif(parent, ''), prev) || ' to ' || number END AS jump_en,
       concat_ws('.', nullif(parent, ''), coalesce(prev, 0) + 1)
         || CASE WHEN position - coalesce(prev, 0) > 2
                 THEN '–' || concat_ws('.', nullif(parent, ''), position - 1) ELSE '' END AS missing
FROM ordered
WHERE position - coalesce(prev, 0) > 1;
