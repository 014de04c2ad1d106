/**
 * WHO ATC classes that reveal a sensitive category, matched by code prefix (a class takes in
 * every substance under it), with exact-code exceptions for substances in those classes used
 * for something else. Source: the WHO Collaborating Centre for Drug Statistics Methodology,
 * ATC/DDD index (class structure as published; a few dozen class codes are cited here, not the
 * index). See docs/adr/0014-sensitive-vocabulary.md.
 */
export const ATC_SENSITIVE: Readonly<Record<string, string>> = {
  // Mental health.
  N05A: 'mental-health', // antipsychotics (N05AN lithium included)
  N05B: 'mental-health', // anxiolytics
  N06A: 'mental-health', // antidepressants
  N06BA: 'mental-health', // centrally acting sympathomimetics (ADHD: methylphenidate, amfetamines, atomoxetine)
  N06C: 'mental-health', // psycholeptics and psychoanaleptics in combination
  // Substance use.
  N07B: 'substance-use', // drugs used in addictive disorders: N07BA nicotine, N07BB alcohol, N07BC opioid
  // HIV: antiretrovirals by class; J05AX only by exact code (the class also holds CMV/flu drugs).
  J05AE: 'hiv', // protease inhibitors
  J05AF: 'hiv', // nucleoside and nucleotide reverse transcriptase inhibitors
  J05AG: 'hiv', // non-nucleoside reverse transcriptase inhibitors
  J05AJ: 'hiv', // integrase inhibitors (raltegravir, elvitegravir, dolutegravir, cabotegravir, bictegravir)
  J05AR: 'hiv', // antivirals for treatment of HIV infections, combinations
  J05AX07: 'hiv', // enfuvirtide
  J05AX09: 'hiv', // maraviroc
  J05AX12: 'hiv', // dolutegravir (code before the J05AJ class)
  J05AX23: 'hiv', // ibalizumab
  J05AX29: 'hiv', // fostemsavir
  J05AX31: 'hiv', // lenacapavir
  // Sexual and reproductive health.
  G02AD: 'sexual-reproductive', // prostaglandins used in obstetrics (dinoprostone, misoprostol as G02AD06)
  G02B: 'sexual-reproductive', // contraceptives for topical use (IUDs, vaginal ring)
  G03A: 'sexual-reproductive', // hormonal contraceptives for systemic use
  G03B: 'sexual-reproductive', // androgens
  G03C: 'sexual-reproductive', // estrogens
  G03D: 'sexual-reproductive', // progestogens
  G03E: 'sexual-reproductive', // androgens and female sex hormones in combination
  G03F: 'sexual-reproductive', // progestogens and estrogens in combination
  G03G: 'sexual-reproductive', // gonadotropins and other ovulation stimulants (fertility)
  G03H: 'sexual-reproductive', // antiandrogens (cyproterone)
  G03XB: 'sexual-reproductive', // progesterone receptor modulators (mifepristone, ulipristal)
};

/** Substances inside a class above that do not reveal its category. */
export const ATC_EXCEPTIONS: ReadonlySet<string> = new Set([
  'J05AE30', // nirmatrelvir and ritonavir (Paxlovid, COVID-19)
  'J05AF08', // adefovir dipivoxil (hepatitis B only)
  'J05AF10', // entecavir (hepatitis B only)
  'J05AF11', // telbivudine (hepatitis B only)
  'J05AF13', // tenofovir alafenamide alone (hepatitis B; for HIV it comes in J05AR combinations)
]);
