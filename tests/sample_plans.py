"""Small plans of the family written for the tests (another province, year and areas)."""

OTHER_PLAN = """\
- 1 Quyết định 749/QĐ-TTg năm 2020 về phê duyệt Chương trình Chuyển đổi số quốc gia do Thủ tướng Chính phủ ban hành
- 2 Nghị quyết 01/NQ-CP về nhiệm vụ năm 2025 do Chính phủ ban hành
ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |
TỈNH BÌNH ĐỊNH | Độc lập - Tự do - Hạnh phúc |
Số: 45/KH-UBND | Bình Định, ngày 5 tháng 1 năm 2025 |
KẾ HOẠCH
CHUYỂN ĐỔI SỐ TỈNH BÌNH ĐỊNH NĂM 2025
Thực hiện Nghị quyết số 01/NQ-CP ngày 06/01/2025 của Chính phủ, UBND tỉnh ban hành Kế hoạch.
| KT. CHỦ TỊCH | PHÓ CHỦ TỊCH |
PHỤ LỤC I
DANH MỤC NHIỆM VỤ
(Kèm theo Kế hoạch số 45/KH-UBND)
STT | Nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian thực hiện |
1 | Chính quyền số |
|
|
|
1.1 | Triển khai nền tảng A | Sở Thông tin và Truyền thông | Sở Nội vụ, UBND huyện Hoài Ân | Quý IV/2025 |
1.2 | Triển khai nền tảng B | Sở Y tế |
| Thường xuyên |
2 | Kinh tế số |
|
|
|
2.1 | Thương mại điện tử | Sở Công Thương |
| 2025 - 2026 |
PHỤ LỤC II
KINH PHÍ
ĐVT: Tỷ đồng
TT | Nội dung | Kinh phí | Đơn vị chủ trì | |
Chi thường xuyên | Chi đầu tư phát triển | |||
1 | Kinh tế số | 1,5 | 2 |
|
1.1 | Sàn thương mại điện tử | 1,5 |
| Sở Công Thương |
1.2 | Trung tâm dữ liệu |
| 2 | Sở Thông tin và Truyền thông |
| Tổng cộng | 1,5 | 2 |
|
"""
