-- id: agency_ceased
-- severity: warning
-- scope: plan
-- reads: task_agencies, budget_item_agencies, tasks, budget_items, plans, agencies, agency_successions
-- title_vi: Giao nhiệm vụ cho cơ quan đã chấm dứt hoạt động
-- title_en: A task is assigned to an agency that had ceased to exist
-- message_vi: Phụ lục {appendix}, {row_vi}: “{mention}” ({agency_vi}) chấm dứt hoạt động sau ngày {ended}, trước
--   ngày ban hành kế hoạch ({issued}); cơ quan kế thừa: {successor_vi}.
-- message_en: Appendix {appendix}, {row_en}: “{mention}” ({agency_en}) ceased to exist after {ended}, before the
--   plan was issued ({issued}); its successor: {successor_en}.
--
-- A mention resolves to the agency that existed on the plan's issue date; a name
-- that only a ceased agency bore (a 2026 plan still naming 'Sở TT&TT') resolves
-- to that agency, and is found here with what took over its remit
-- (agency_successions, with the act that made the change).
WITH mentions AS (
    SELECT m.plan_id, 'task_agencies' AS resource,
           json_object('task_code', m.task_code, 'mention_no', m.mention_no)::VARCHAR AS row_key,
           m.source_line, t.appendix, m.mention, m.agency_id,
           'nhiệm vụ ' || t.task_code_text AS row_vi, 'task ' || t.task_code_text AS row_en
    FROM task_agencies m
    JOIN tasks t USING (plan_id, task_code)
    UNION ALL
    SELECT m.plan_id, 'budget_item_agencies',
           json_object('item_code', m.item_code, 'mention_no', m.mention_no)::VARCHAR,
           m.source_line, i.appendix, m.mention, m.agency_id,
           'nhiệm vụ ' || i.item_code_text, 'budget item ' || i.item_code_text
    FROM budget_item_agencies m
    JOIN budget_items i USING (plan_id, item_code)
)
SELECT m.plan_id, m.resource, m.row_key, m.source_line, m.appendix, m.mention, m.row_vi, m.row_en,
       a.name_vi AS agency_vi, a.name_en AS agency_en,
       strftime(a.valid_to, '%d/%m/%Y') AS ended, strftime(p.issued_date, '%d/%m/%Y') AS issued,
       coalesce(string_agg(s.name_vi, '; ' ORDER BY s.agency_id), 'không có trong danh mục') AS successor_vi,
       coalesce(string_agg(s.name_en, '; ' ORDER BY s.agency_id), 'none in the code list') AS successor_en
FROM mentions m
JOIN plans p USING (plan_id)
JOIN agencies a ON a.agency_id = m.agency_id
LEFT JOIN agency_successions x ON x.agency_id = a.agency_id
LEFT JOIN agencies s ON s.agency_id = x.successor_agency_id
WHERE a.valid_to < p.issued_date
GROUP BY ALL;
