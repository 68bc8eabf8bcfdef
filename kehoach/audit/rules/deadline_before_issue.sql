-- id: deadline_before_issue
-- severity: error
-- scope: plan
-- reads: tasks, plans
-- title_vi: Thời hạn trước ngày ban hành kế hoạch
-- title_en: A deadline falls before the plan's issue date
-- message_vi: Phụ lục {appendix}, nhiệm vụ {task_code_text}: thời hạn “{deadline_text}” ({deadline_date}) trước
--   ngày ban hành kế hoạch ({issued_date}).
-- message_en: Appendix {appendix}, task {task_code_text}: the deadline “{deadline_text}” ({deadline_date}) is
--   before the plan's issue date ({issued_date}).
--
-- The latest date a deadline implies is compared, so a range that ends after
-- the issue date is not reported.
SELECT t.plan_id, 'tasks' AS resource, json_object('task_code', t.task_code)::VARCHAR AS row_key,
       t.source_line, t.appendix, t.task_code_text, t.deadline_text,
       strftime(t.deadline_date, '%d/%m/%Y') AS deadline_date, strftime(p.issued_date, '%d/%m/%Y') AS issued_date
FROM tasks t
JOIN plans p USING (plan_id)
WHERE t.deadline_date < p.issued_date;
