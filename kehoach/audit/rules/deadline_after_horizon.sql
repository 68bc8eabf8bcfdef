-- id: deadline_after_horizon
-- severity: warning
-- scope: plan
-- reads: tasks, plans, investment_lines
-- title_vi: Thời hạn vượt quá thời kỳ của kế hoạch
-- title_en: A deadline falls after the plan's horizon
-- message_vi: Phụ lục {appendix}, nhiệm vụ {task_code_text}: thời hạn “{deadline_text}” ({deadline_date}) sau
--   thời kỳ của kế hoạch (hết năm {horizon_year}).
-- message_en: Appendix {appendix}, task {task_code_text}: the deadline “{deadline_text}” ({deadline_date}) is
--   after the plan's horizon (the end of {horizon_year}).
--
-- The horizon is the end of the later of the plan year (from its title) and the
-- last year of its investment phasing; a plan that names neither is not checked.
SELECT t.plan_id, 'tasks' AS resource, json_object('task_code', t.task_code)::VARCHAR AS row_key,
       t.source_line, t.appendix, t.task_code_text, t.deadline_text,
       strftime(t.deadline_date, '%d/%m/%Y') AS deadline_date, h.horizon_year
FROM tasks t
JOIN audit_plan_horizon h USING (plan_id)
WHERE t.deadline_date > h.horizon_date;
