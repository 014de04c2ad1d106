/**
 * ICD-10 (WHO and ICD-10-CM) prefixes and ranges that reveal a sensitive category. Each entry is
 * `[from, to, category]` over the code without its dot: a code matches when its first
 * `from.length` characters sort (as strings) between `from` and `to`, so a three-character range
 * takes in every subcode ('F32' → F32.A, F32.9, …) and 'O9A' sorts after 'O99'.
 * Source: the ICD-10-CM tabular list (CDC/NCHS, public domain) and the WHO ICD-10 chapter
 * structure; categories follow the HL7 v3 ActCode sensitivity policies (PSY/ETH/SUD/HIV/SEX/STD/
 * GDIS). See docs/adr/0014-sensitive-vocabulary.md.
 */
export type Icd10Entry = readonly [from: string, to: string, category: string];

export const ICD10_SENSITIVE: readonly Icd10Entry[] = [
  // Mental and behavioural disorders (chapter V), less F10–F19 which is substance use.
  ['F01', 'F09', 'mental-health'],
  ['F20', 'F99', 'mental-health'],
  ['R45851', 'R45851', 'mental-health'], // suicidal ideations
  ['T1491', 'T1491', 'mental-health'], // suicide attempt
  ['X71', 'X83', 'mental-health'], // intentional self-harm
  ['Z9151', 'Z9152', 'mental-health'], // personal history of suicidal behaviour / self-harm
  ['Z8659', 'Z8659', 'mental-health'], // personal history of other mental and behavioural disorders
  ['Z046', 'Z046', 'mental-health'], // general psychiatric examination, requested by authority
  // Substance use.
  ['F10', 'F19', 'substance-use'], // includes F17 nicotine dependence
  ['Z714', 'Z715', 'substance-use'], // alcohol / drug abuse counselling
  ['R780', 'R785', 'substance-use'], // alcohol, opiates, cocaine, hallucinogens… found in blood
  ['T401', 'T401', 'substance-use'], // poisoning by heroin
  ['O9931', 'O9932', 'substance-use'], // alcohol / drug use complicating pregnancy
  ['P044', 'P044', 'substance-use'], // newborn affected by maternal use of drugs of addiction
  ['P961', 'P961', 'substance-use'], // neonatal withdrawal symptoms from maternal use
  // HIV.
  ['B20', 'B24', 'hiv'],
  ['Z21', 'Z21', 'hiv'],
  ['R75', 'R75', 'hiv'], // inconclusive laboratory evidence of HIV
  ['Z206', 'Z206', 'hiv'], // contact with and (suspected) exposure to HIV — the PrEP indication
  ['Z114', 'Z114', 'hiv'], // screening for HIV
  ['Z717', 'Z717', 'hiv'], // HIV counselling
  ['O987', 'O987', 'hiv'], // HIV disease complicating pregnancy
  // Genetic.
  ['Q90', 'Q99', 'genomic'], // chromosomal abnormalities
  ['Z14', 'Z15', 'genomic'], // genetic carrier, genetic susceptibility
  ['Z137', 'Z137', 'genomic'], // screening for genetic and chromosomal anomalies
  ['Z3143', 'Z3143', 'genomic'], // genetic testing for procreative management
  ['Z8481', 'Z8481', 'genomic'], // family history of carrier of genetic disease
  // Sexual and reproductive health.
  ['O00', 'O9A', 'sexual-reproductive'], // pregnancy, childbirth, puerperium (O00–O08 abortive outcome)
  ['A50', 'A64', 'sexual-reproductive'], // infections with a predominantly sexual mode of transmission
  ['N96', 'N98', 'sexual-reproductive'], // recurrent pregnancy loss, female infertility, complications of ART
  ['N46', 'N46', 'sexual-reproductive'], // male infertility
  ['Z30', 'Z37', 'sexual-reproductive'], // contraception, procreation, pregnancy, outcome of delivery
  ['Z39', 'Z39', 'sexual-reproductive'], // postpartum care
  ['Z3A', 'Z3A', 'sexual-reproductive'], // weeks of gestation (sorts after Z39)
  ['Z113', 'Z113', 'sexual-reproductive'], // screening for sexually transmitted infections
  ['Z202', 'Z202', 'sexual-reproductive'], // contact with / exposure to sexually transmitted infections
  ['Z224', 'Z224', 'sexual-reproductive'], // carrier of sexually transmitted infections
  ['Z725', 'Z725', 'sexual-reproductive'], // high-risk sexual behaviour
  ['Z044', 'Z044', 'sexual-reproductive'], // examination following alleged rape
  ['T742', 'T742', 'sexual-reproductive'], // sexual abuse, confirmed
  ['T762', 'T762', 'sexual-reproductive'], // sexual abuse, suspected
  ['Z640', 'Z640', 'sexual-reproductive'], // problems related to unwanted pregnancy
  ['Z875', 'Z875', 'sexual-reproductive'], // personal history of complications of pregnancy
  ['Z87890', 'Z87890', 'sexual-reproductive'], // personal history of sex reassignment
  ['Z793', 'Z793', 'sexual-reproductive'], // long-term use of hormonal contraceptives
  ['Z975', 'Z975', 'sexual-reproductive'], // presence of (intrauterine) contraceptive device
  ['Z9851', 'Z9852', 'sexual-reproductive'], // tubal ligation / vasectomy status
];
