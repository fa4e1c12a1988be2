"""Boundary rules of the Indonesian splitter, one class per rule family.

Each case is a small piece of news-like text and the sentences it must give, so that a
regression names the rule that broke.
"""

from __future__ import annotations

import pytest

from pipeline.splitter import split_sentences
from tests.helpers import check_offsets


def split(text: str, **options: object) -> list[str]:
    sentences = split_sentences(text, **options)  # type: ignore[arg-type]
    check_offsets(text, sentences)
    return [s.text for s in sentences]


def cases(*pairs: tuple[str, list[str]]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(("text", "expected"), pairs, ids=[p[0][:40] for p in pairs])


class TestBasics:
    @cases(
        ("Harga naik. Warga mengeluh.", ["Harga naik.", "Warga mengeluh."]),
        ("Benarkah itu? Ya! Tentu saja.", ["Benarkah itu?", "Ya!", "Tentu saja."]),
        ("Tanpa tanda akhir", ["Tanpa tanda akhir"]),
        ("Siapa dia?! Tidak tahu.", ["Siapa dia?!", "Tidak tahu."]),
    )
    def test_final_punctuation(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected

    def test_empty_and_blank(self) -> None:
        assert split_sentences("") == []
        assert split_sentences("  \n\n \t ") == []

    def test_deterministic_and_pure(self) -> None:
        text = "Menurut dr. Siti, harga naik. Ia kaget."
        assert split_sentences(text) == split_sentences(text)
        assert text == "Menurut dr. Siti, harga naik. Ia kaget."


class TestTitles:
    @cases(
        (
            "Menurut dr. Siti Rahma, Sp.A., kasus demam berdarah meningkat. Ia khawatir.",
            ["Menurut dr. Siti Rahma, Sp.A., kasus demam berdarah meningkat.", "Ia khawatir."],
        ),
        (
            "Prof. Dr. Bambang Sutrisno, M.Sc. dari UI membenarkan. Ia menambahkan.",
            ["Prof. Dr. Bambang Sutrisno, M.Sc. dari UI membenarkan.", "Ia menambahkan."],
        ),
        (
            "Ceramah diisi K.H. Ma'ruf Amin dan Hj. Siti Aminah. Acara selesai.",
            ["Ceramah diisi K.H. Ma'ruf Amin dan Hj. Siti Aminah.", "Acara selesai."],
        ),
        (
            "Proyek dipimpin Ir. Joko Susilo, M.Si. Ia lulusan ITB.",
            ["Proyek dipimpin Ir. Joko Susilo, M.Si.", "Ia lulusan ITB."],
        ),
        (
            "Kuasa hukumnya, Andi Wijaya, S.H. Menurut dia, gugatan itu lemah.",
            ["Kuasa hukumnya, Andi Wijaya, S.H.", "Menurut dia, gugatan itu lemah."],
        ),
        (
            "Ia didampingi Budi, S.H., M.H. dan Sdr. Anton. Sidang ditunda.",
            ["Ia didampingi Budi, S.H., M.H. dan Sdr. Anton.", "Sidang ditunda."],
        ),
        (
            "Pelantikan dihadiri Brigjen. Pol. Arif dan Kol. Inf. Dedi. Semua hadir.",
            ["Pelantikan dihadiri Brigjen. Pol. Arif dan Kol. Inf. Dedi.", "Semua hadir."],
        ),
    )
    def test_title_then_name(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected

    @cases(
        (
            "Surat itu diteken Moh. Saleh dan Abd. Karim. Isinya singkat.",
            ["Surat itu diteken Moh. Saleh dan Abd. Karim.", "Isinya singkat."],
        ),
        (
            "Sambutan dibacakan Muh. Arif, lalu Mhd. Yusuf. Acara ditutup.",
            ["Sambutan dibacakan Muh. Arif, lalu Mhd. Yusuf.", "Acara ditutup."],
        ),
    )
    def test_abbreviated_first_names(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected

    def test_degree_not_in_list_behaves_like_a_degree(self) -> None:
        text = "Ia lulus sebagai Budi, S.Ars. dari Bandung. Lalu ia pindah."
        assert split(text) == ["Ia lulus sebagai Budi, S.Ars. dari Bandung.", "Lalu ia pindah."]


class TestAddresses:
    @cases(
        (
            "Kantor itu di Jl. Jend. Sudirman No. 45, Kec. Tanah Abang, Jakarta Pusat. Sepi.",
            ["Kantor itu di Jl. Jend. Sudirman No. 45, Kec. Tanah Abang, Jakarta Pusat.", "Sepi."],
        ),
        (
            "Alamat lamanya di Jl. Gatot Subroto Kav. 12 kini kosong. Ia pindah.",
            ["Alamat lamanya di Jl. Gatot Subroto Kav. 12 kini kosong.", "Ia pindah."],
        ),
        (
            "Rumahnya di RT. 03/RW. 05 Kel. Cempaka, Kab. Bogor. Banjir datang.",
            ["Rumahnya di RT. 03/RW. 05 Kel. Cempaka, Kab. Bogor.", "Banjir datang."],
        ),
        (
            "Hubungi Telp. (021) 555 atau No. HP 0812. Layanan buka.",
            ["Hubungi Telp. (021) 555 atau No. HP 0812.", "Layanan buka."],
        ),
    )
    def test_address_parts(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected

    @cases(
        (
            "Feri tertahan di Tj. Perak karena ombak. Penumpang menunggu.",
            ["Feri tertahan di Tj. Perak karena ombak.", "Penumpang menunggu."],
        ),
        (
            "Jalur ke Gn. Semeru ditutup dan wisata Kep. Karimun sepi. Warga kecewa.",
            ["Jalur ke Gn. Semeru ditutup dan wisata Kep. Karimun sepi.", "Warga kecewa."],
        ),
        (
            "Ia mengajar di Univ. Airlangga dan Dept. Kimia. Kini ia pensiun.",
            ["Ia mengajar di Univ. Airlangga dan Dept. Kimia.", "Kini ia pensiun."],
        ),
    )
    def test_place_and_institution_abbreviations(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected

    def test_all_caps_acronym_is_not_the_address_abbreviation(self) -> None:
        # "KEL" here is an acronym that ends the sentence, not "Kel." (kelurahan).
        text = "Jalan itu merusak KEL. Pada 2006 proyek dihentikan."
        assert split(text) == ["Jalan itu merusak KEL.", "Pada 2006 proyek dihentikan."]


class TestCompanies:
    @cases(
        (
            "Saham PT Bank Rakyat Indonesia Tbk. naik 1,2 persen. Investor senang.",
            ["Saham PT Bank Rakyat Indonesia Tbk. naik 1,2 persen.", "Investor senang."],
        ),
        (
            "Laba naik di PT Astra International Tbk. Sahamnya menguat.",
            ["Laba naik di PT Astra International Tbk.", "Sahamnya menguat."],
        ),
        (
            "Dana dari PT. Maju Jaya masuk. Proyek berjalan.",
            ["Dana dari PT. Maju Jaya masuk.", "Proyek berjalan."],
        ),
        (
            "Ia menjual saham ke Encore Energy Pte. Ltd. (Encore), anak usahanya. Selesai.",
            ["Ia menjual saham ke Encore Energy Pte. Ltd. (Encore), anak usahanya.", "Selesai."],
        ),
        (
            "Saham dibeli Liantong Printing Co. Ltd. tahun lalu. Harganya naik.",
            ["Saham dibeli Liantong Printing Co. Ltd. tahun lalu.", "Harganya naik."],
        ),
    )
    def test_company_forms(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected


class TestListAbbreviations:
    @cases(
        (
            "Pedagang menjual sayur, buah, dll. Harga cabai naik.",
            ["Pedagang menjual sayur, buah, dll.", "Harga cabai naik."],
        ),
        (
            "Bahan pokok seperti beras, gula, dll. mengalami kenaikan. Pemerintah berjanji.",
            ["Bahan pokok seperti beras, gula, dll. mengalami kenaikan.", "Pemerintah berjanji."],
        ),
        (
            "Peserta membawa KTP, KK, dsb. saat verifikasi. Antrean panjang.",
            ["Peserta membawa KTP, KK, dsb. saat verifikasi.", "Antrean panjang."],
        ),
        (
            "Penelitian Sutrisno dkk. menunjukkan hal itu. Hasilnya dan dst. Terbukti.",
            ["Penelitian Sutrisno dkk. menunjukkan hal itu.", "Hasilnya dan dst.", "Terbukti."],
        ),
        (
            "Transfer ke rekening BCA a.n. Yayasan Peduli Anak. Pendaftaran dibuka 1 s.d. "
            "15 Maret. Ayo daftar.",
            [
                "Transfer ke rekening BCA a.n. Yayasan Peduli Anak.",
                "Pendaftaran dibuka 1 s.d. 15 Maret.",
                "Ayo daftar.",
            ],
        ),
    )
    def test_lists_and_phrases(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected


class TestNumbers:
    @cases(
        (
            "Inflasi tercatat 2,75 persen. Rupiah melemah ke Rp15.650 per dolar AS. Ekonomi "
            "tumbuh 4.94 persen.",
            [
                "Inflasi tercatat 2,75 persen.",
                "Rupiah melemah ke Rp15.650 per dolar AS.",
                "Ekonomi tumbuh 4.94 persen.",
            ],
        ),
        (
            "Harganya Rp. 5.000 per kilogram. Murah.",
            ["Harganya Rp. 5.000 per kilogram.", "Murah."],
        ),
        (
            "Acara dimulai pukul 09.30 WIB dan berakhir 12.00 WIB. Kapal tiba pukul 14.15. "
            "H. Abdul Somad lalu berceramah.",
            [
                "Acara dimulai pukul 09.30 WIB dan berakhir 12.00 WIB.",
                "Kapal tiba pukul 14.15.",
                "H. Abdul Somad lalu berceramah.",
            ],
        ),
        (
            "Kepada wartawan di Jakarta, Selasa (18/6), ia membantah. Ia kesal.",
            ["Kepada wartawan di Jakarta, Selasa (18/6), ia membantah.", "Ia kesal."],
        ),
        (
            "Lihat hlm. 12 dan Vol. 3 laporan itu. Datanya lengkap.",
            ["Lihat hlm. 12 dan Vol. 3 laporan itu.", "Datanya lengkap."],
        ),
        (
            "Posko dibuka pk. 07.30 dan denahnya ada di gbr. 2 brosur. Relawan berjaga.",
            ["Posko dibuka pk. 07.30 dan denahnya ada di gbr. 2 brosur.", "Relawan berjaga."],
        ),
        (
            "Peristiwa itu terjadi pada 1445 H. Umat menyambutnya. Korban tewas 2019. 12 orang.",
            [
                "Peristiwa itu terjadi pada 1445 H.",
                "Umat menyambutnya.",
                "Korban tewas 2019.",
                "12 orang.",
            ],
        ),
    )
    def test_numbers_times_dates(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected


class TestUrlsAndEmails:
    @cases(
        (
            "Info di www.kemenkeu.go.id atau surel info@kemenkeu.go.id. Layanan buka 24 jam.",
            ["Info di www.kemenkeu.go.id atau surel info@kemenkeu.go.id.", "Layanan buka 24 jam."],
        ),
        (
            "Baca di https://nasional.kompas.com/read/2024/06/18/a.b.html. Ada videonya.",
            ["Baca di https://nasional.kompas.com/read/2024/06/18/a.b.html.", "Ada videonya."],
        ),
        (
            "Situsnya www.bi.go.id. Laporan terbit tiap bulan.",
            ["Situsnya www.bi.go.id.", "Laporan terbit tiap bulan."],
        ),
        (
            "Lihat https://id.wikipedia.org/wiki/Bank_(keuangan). Ada penjelasannya.",
            ["Lihat https://id.wikipedia.org/wiki/Bank_(keuangan).", "Ada penjelasannya."],
        ),
        (
            "Harga naik (lihat https://x.id/a.b). Warga mengeluh.",
            ["Harga naik (lihat https://x.id/a.b).", "Warga mengeluh."],
        ),
        (
            "Baca https://x.id/wiki/Tbk._(Persero) Selengkapnya di sana.",
            ["Baca https://x.id/wiki/Tbk._(Persero) Selengkapnya di sana."],
        ),
    )
    def test_urls_emails(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected


class TestInitials:
    @cases(
        (
            "Presiden ke-3 RI, B.J. Habibie, lahir di Parepare. Ia insinyur.",
            ["Presiden ke-3 RI, B.J. Habibie, lahir di Parepare.", "Ia insinyur."],
        ),
        (
            "Pernyataan Susilo B. Yudhoyono dikutip oleh M. Nuh. Semua setuju.",
            ["Pernyataan Susilo B. Yudhoyono dikutip oleh M. Nuh.", "Semua setuju."],
        ),
        (
            "Anak perlu vitamin C. Sayur membantu. Tim lolos dari Grup A. Lawan berikutnya kuat.",
            [
                "Anak perlu vitamin C.",
                "Sayur membantu.",
                "Tim lolos dari Grup A.",
                "Lawan berikutnya kuat.",
            ],
        ),
        (
            "Bandara punya terminal B, C dan D. Perjanjian baru diteken.",
            ["Bandara punya terminal B, C dan D.", "Perjanjian baru diteken."],
        ),
    )
    def test_initials_and_labels(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected


class TestQuotes:
    @cases(
        (
            '"Kami akan terus memantau situasi," kata Kapolri. "Apakah ini cukup?" tanyanya. '
            'Ia lalu menjawab sendiri: "Belum cukup." Pernyataan itu disampaikan di Istana.',
            [
                '"Kami akan terus memantau situasi," kata Kapolri.',
                '"Apakah ini cukup?" tanyanya.',
                'Ia lalu menjawab sendiri: "Belum cukup."',
                "Pernyataan itu disampaikan di Istana.",
            ],
        ),
        (
            "“Kami tidak akan mundur,” ujar Ketua DPR. Ia menyebut RUU itu “sangat mendesak.” "
            "Rapat dijadwalkan pekan depan.",
            [
                "“Kami tidak akan mundur,” ujar Ketua DPR.",
                "Ia menyebut RUU itu “sangat mendesak.”",
                "Rapat dijadwalkan pekan depan.",
            ],
        ),
        (
            "“Hentikan!” teriak warga. “Tidak!” Polisi mundur.",
            ["“Hentikan!” teriak warga.", "“Tidak!”", "Polisi mundur."],
        ),
    )
    def test_quote_marks_with_final_punctuation(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected

    def test_a_quotation_of_several_sentences_stays_one_unit(self) -> None:
        # The attribution belongs to the whole quotation; cutting inside it would leave
        # unbalanced quote marks in both halves.
        text = '"Kami siap. Semua tim sudah di lokasi," kata Kapolda. Evakuasi dimulai.'
        assert split(text) == [
            '"Kami siap. Semua tim sudah di lokasi," kata Kapolda.',
            "Evakuasi dimulai.",
        ]

    def test_an_unclosed_quote_does_not_swallow_the_paragraph(self) -> None:
        text = 'Ia berkata, "Kami siap. Semua tim sudah di lokasi. Evakuasi dimulai.'
        assert split(text) == [
            'Ia berkata, "Kami siap.',
            "Semua tim sudah di lokasi.",
            "Evakuasi dimulai.",
        ]


class TestEllipsis:
    @cases(
        (
            "Suasana sangat mencekam... Warga berlarian. Ada yang bilang ... ah, sudahlah. "
            "Polisi menyelidiki ledakan itu… Hasilnya diumumkan besok.",
            [
                "Suasana sangat mencekam...",
                "Warga berlarian.",
                "Ada yang bilang ... ah, sudahlah.",
                "Polisi menyelidiki ledakan itu…",
                "Hasilnya diumumkan besok.",
            ],
        ),
    )
    def test_ellipses(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected


class TestLowercaseAndBrackets:
    @cases(
        # A full word, a period, and a lowercase word: the writer did not capitalise.
        (
            "Ia lahir di Batavia pada 1879. atau begitulah catatannya.",
            ["Ia lahir di Batavia pada 1879.", "atau begitulah catatannya."],
        ),
        # A short unknown form before lowercase is taken as an abbreviation.
        ("Jaraknya 5 km. dari pusat kota.", ["Jaraknya 5 km. dari pusat kota."]),
        # A listed abbreviation of four letters is not a full word either.
        ("Rumahnya di Komp. perumahan dosen.", ["Rumahnya di Komp. perumahan dosen."]),
        (
            "Tanaman itu (E. hemisphaerica) berkhasiat. Bandara SSK (SSK. II) ramai.",
            ["Tanaman itu (E. hemisphaerica) berkhasiat.", "Bandara SSK (SSK. II) ramai."],
        ),
        (
            "Ia meninggal (alm.) tahun lalu. Rumahnya dijual.",
            ["Ia meninggal (alm.) tahun lalu.", "Rumahnya dijual."],
        ),
        (
            "Tulisan itu dibuat pada 1990 (lihat hal. 5). Isinya panjang.",
            ["Tulisan itu dibuat pada 1990 (lihat hal. 5).", "Isinya panjang."],
        ),
    )
    def test_cases(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected

    def test_missing_space_after_period(self) -> None:
        text = "Banjir melanda kawasan tersebut.Sementara itu warga mengungsi."
        assert split(text) == ["Banjir melanda kawasan tersebut.", "Sementara itu warga mengungsi."]
        assert split("Kunjungi KOMPAS.com setiap hari.") == ["Kunjungi KOMPAS.com setiap hari."]


class TestListMarkers:
    def test_numbered_items_on_their_own_lines(self) -> None:
        text = "Ada tiga syarat:\n1. Fotokopi KTP.\n2. Pas foto.\n3. Surat lamaran."
        assert split(text) == [
            "Ada tiga syarat:",
            "1. Fotokopi KTP.",
            "2. Pas foto.",
            "3. Surat lamaran.",
        ]

    @cases(
        (
            "Peringkat akhir: 1. Persija 2. Persib 3. Arema. Liga usai.",
            ["Peringkat akhir: 1. Persija 2. Persib 3. Arema.", "Liga usai."],
        ),
        (
            "Ada dua usul: 1. Tunda rapat. 2. Ganti ketua. Keduanya ditolak.",
            ["Ada dua usul: 1. Tunda rapat.", "2. Ganti ketua.", "Keduanya ditolak."],
        ),
        # Without a colon or an earlier marker a small number can end a sentence.
        (
            "Ia menempati urutan 1. Rekannya di urutan 2. Keduanya lolos.",
            ["Ia menempati urutan 1.", "Rekannya di urutan 2.", "Keduanya lolos."],
        ),
        (
            "Skor akhir 3. Pelatih puas: 2 gol lahir dari bola mati.",
            ["Skor akhir 3.", "Pelatih puas: 2 gol lahir dari bola mati."],
        ),
    )
    def test_numbered_items_run_into_the_text(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected

    def test_enumeration_in_running_text(self) -> None:
        text = "Ada tiga hal yang dibahas. Pertama, soal anggaran. Kedua, soal tenaga kerja!"
        assert split(text) == [
            "Ada tiga hal yang dibahas.",
            "Pertama, soal anggaran.",
            "Kedua, soal tenaga kerja!",
        ]


class TestHardWrappedNews:
    """The three error classes of hard-wrapped news text (issue 15), each as a class."""

    @pytest.mark.parametrize("word", ["dari", "di", "dan", "yang", "ke", "pada", "oleh", "serta"])
    def test_line_ending_in_a_function_word_goes_on(self, word: str) -> None:
        # The short first line would pass the width test; the function word says it goes on.
        text = (
            f"Bantuan itu dikirim {word}\n"
            "Kementerian Sosial kepada warga yang terdampak banjir di Kabupaten\n"
            "Bekasi pekan lalu. Warga menyambut baik bantuan tersebut."
        )
        assert split(text) == [
            f"Bantuan itu dikirim {word} Kementerian Sosial kepada warga yang terdampak "
            "banjir di Kabupaten Bekasi pekan lalu.",
            "Warga menyambut baik bantuan tersebut.",
        ]
        assert [s.paragraph for s in split_sentences(text)] == [0, 0]

    def test_a_headline_still_ends_its_line(self) -> None:
        text = "Banjir Rendam Bekasi\nHujan deras merendam ratusan rumah di Bekasi sejak Senin."
        assert [s.paragraph for s in split_sentences(text)] == [0, 1]

    @cases(
        (
            "Pemerintah menyiapkan tiga program:\nBantuan langsung tunai\nSubsidi listrik\n"
            "Kartu Prakerja\nProgram itu berjalan tahun depan.",
            [
                "Pemerintah menyiapkan tiga program:",
                "Bantuan langsung tunai",
                "Subsidi listrik",
                "Kartu Prakerja",
                "Program itu berjalan tahun depan.",
            ],
        ),
        (
            # The longest item sets the width, so the width test alone joins it onward.
            "Syarat pendaftaran\nKartu tanda penduduk asli\nIjazah terakhir\n"
            "Pas foto berwarna ukuran empat kali enam\nPendaftaran ditutup Jumat.",
            [
                "Syarat pendaftaran",
                "Kartu tanda penduduk asli",
                "Ijazah terakhir",
                "Pas foto berwarna ukuran empat kali enam",
                "Pendaftaran ditutup Jumat.",
            ],
        ),
        (
            "Barang bukti yang disita:\n- Dua unit sepeda motor\n- Uang tunai Rp 5 juta\n"
            "- Tiga telepon genggam milik para tersangka\nPolisi masih memburu pelaku lain.",
            [
                "Barang bukti yang disita:",
                "- Dua unit sepeda motor",
                "- Uang tunai Rp 5 juta",
                "- Tiga telepon genggam milik para tersangka",
                "Polisi masih memburu pelaku lain.",
            ],
        ),
    )
    def test_list_items_without_final_punctuation(self, text: str, expected: list[str]) -> None:
        assert split(text) == expected

    @pytest.mark.parametrize("noun", ["sesi", "pasal", "bab", "tahap", "Babak", "jilid", "fase"])
    @pytest.mark.parametrize("numeral", ["I", "II", "IV", "V", "X", "XII"])
    def test_roman_numeral_after_a_counted_noun_ends_a_sentence(
        self, noun: str, numeral: str
    ) -> None:
        text = f"Aturan itu masuk {noun} {numeral}. Semua pihak sepakat."
        assert split(text) == [f"Aturan itu masuk {noun} {numeral}.", "Semua pihak sepakat."]

    def test_a_numeral_like_initial_before_a_name_still_holds(self) -> None:
        assert len(split("Acara dibuka oleh Gubernur dan I. Gusti Ngurah Rai hadir.")) == 1
