-- id: task_no_deadline
-- severity: warning
-- scope: plan
-- reads: tasks
-- title_vi: Nhiệm vụ không ghi thời hạn, hoặc thời hạn không đọc được
-- title_en: A task has no deadline, or one that cannot be read
-- message_vi: Phụ lục {appendix}, nhiệm vụ {task_code_text} “{name}”: {state_vi}.
-- message_en: Appendix {appendix}, task {task_code_text} “{name}”: {state_en}.
SELECT plan_id, 'tasks' AS resource, json_object('task_code', task_code)::VARCHAR AS row_key,
       source_line, appendix, task_code_text, name,
       CASE WHEN deadline_kind = 'none' THEN 'không ghi thời hạn (ô để trống, hoặc bảng không có cột thời hạn)'
            ELSE 'không hiểu được thời hạn “' || deadline_text || '”' END AS state_vi,
       CASE WHEN deadline_kind = 'none' THEN 'no deadline is stated (a blank cell, or a table without a deadline column)'
            ELSE 'the deadline “' || deadline_text || '” cannot be read as a date or a recurrence' END AS state_en
FROM tasks
WHERE deadline_kind IN ('none', 'other');
