-- id: numbering_outside_group
-- severity: warning
-- scope: plan
-- reads: tasks, budget_items
-- title_vi: Số thứ tự không thuộc nhóm chứa nó
-- title_en: A row's number does not belong to its group
-- message_vi: Phụ lục {appendix} ({resource}): dòng {code_text} nằm trong nhóm {group_no}.
-- message_en: Appendix {appendix} ({resource}): row {code_text} sits under group {group_no}.
--
-- An item numbered 5.3 under group 4: a typo in the number, or a row out of place.
SELECT plan_id, resource, row_key, source_line, appendix, code_text, group_no
FROM audit_numbered_rows
WHERE position IS NOT NULL AND parent <> '' AND group_no IS NOT NULL
  AND CAST(split_part(number, '.', 1) AS INTEGER) <> group_no;
