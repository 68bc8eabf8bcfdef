-- id: numbering_malformed
-- severity: warning
-- scope: plan
-- reads: tasks, budget_items, investments
-- title_vi: Số thứ tự viết sai dạng
-- title_en: A row number is malformed
-- message_vi: Phụ lục {appendix} ({resource}): số thứ tự viết là “{code_text}”, được hiểu là {number}.
-- message_en: Appendix {appendix} ({resource}): the row number is written “{code_text}” and read as {number}.
--
-- A number written with a space or a comma between its levels ('9 2', '1,2')
-- or with spaces around its dots; a trailing dot ('1.1.') is a normal style.
SELECT plan_id, resource, row_key, source_line, appendix, code_text, number
FROM audit_numbered_rows
WHERE position IS NOT NULL
  AND regexp_replace(code_text, '\.$', '') <> number;
