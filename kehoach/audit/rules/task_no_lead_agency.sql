-- id: task_no_lead_agency
-- severity: warning
-- scope: plan
-- reads: tasks, task_agencies
-- title_vi: Nhiệm vụ không có cơ quan chủ trì
-- title_en: A task has no lead agency
-- message_vi: Phụ lục {appendix}, nhiệm vụ {task_code_text} “{name}”: không ghi cơ quan chủ trì.
-- message_en: Appendix {appendix}, task {task_code_text} “{name}”: no lead agency is named.
SELECT t.plan_id, 'tasks' AS resource, json_object('task_code', t.task_code)::VARCHAR AS row_key,
       t.source_line, t.appendix, t.task_code_text, t.name
FROM tasks t
WHERE NOT EXISTS (SELECT 1 FROM task_agencies m
                  WHERE m.plan_id = t.plan_id AND m.task_code = t.task_code AND m.role = 'lead');
