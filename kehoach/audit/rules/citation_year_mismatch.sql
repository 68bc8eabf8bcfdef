-- id: citation_year_mismatch
-- severity: warning
-- scope: plan
-- reads: citations, documents, plan_documents
-- title_vi: Văn bản được trích dẫn với năm khác năm trong danh mục văn bản liên quan
-- title_en: A document is cited with another year than the one in the related-documents list
-- message_vi: Dòng {source_line}: “{reference_text}” ghi năm {cited_year}, nhưng danh mục văn bản liên quan có {number}
--   năm {listed_year}; có thể là cùng một văn bản ghi nhầm năm.
-- message_en: Line {source_line}: “{reference_text}” gives the year {cited_year}, but the related-documents list has
--   {number} of {listed_year}; probably the same document with a mistyped year.
--
-- Numbers such as 131/QĐ-TTg restart every year, so two years are two
-- documents by the rules; the audit points out the likely typo, it does not
-- merge them.
SELECT c.plan_id, 'citations' AS resource,
       json_object('section_id', c.section_id, 'line_in_section', c.line_in_section,
                   'position', c.position)::VARCHAR AS row_key,
       c.source_line, c.reference_text, cited.number, cited.year AS cited_year, min(listed.year) AS listed_year
FROM citations c
JOIN documents cited ON cited.doc_id = c.doc_id
JOIN documents listed ON listed.number = cited.number AND listed.year <> cited.year
JOIN plan_documents pd ON pd.plan_id = c.plan_id AND pd.doc_id = listed.doc_id AND pd.relation = 'related'
WHERE NOT EXISTS (SELECT 1 FROM plan_documents own
                  WHERE own.plan_id = c.plan_id AND own.doc_id = cited.doc_id AND own.relation = 'related')
GROUP BY ALL;
