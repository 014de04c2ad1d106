/**
 * Exact-code lists, by code system, of concepts that reveal a sensitive category. They extend
 * the short lists in classify.ts; hierarchies that exact lists cannot cover (SNOMED CT
 * descendants of 74732009 "Mental disorder", RxNorm products of an ingredient) are backed by the
 * whole-word text matching in text.ts over every display and text. Sources and licences:
 * docs/adr/0014-sensitive-vocabulary.md.
 */

/**
 * RxNorm ingredients (TTY IN/PIN) by category, as `[RxCUI, name]`. Curated from the NLM RxNorm
 * release (RxNorm's own content is public domain, NLM); CUIs that could not be checked in this
 * environment are left out and the ingredient is matched by name only (text.ts names every
 * ingredient here and more).
 */
export const RXNORM_INGREDIENTS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  'mental-health': [
    ['36437', 'sertraline'],
    ['4493', 'fluoxetine'],
    ['32937', 'paroxetine'],
    ['2556', 'citalopram'],
    ['321988', 'escitalopram'],
    ['42355', 'fluvoxamine'],
    ['39786', 'venlafaxine'],
    ['734064', 'desvenlafaxine'],
    ['72625', 'duloxetine'],
    ['42347', 'bupropion'],
    ['15996', 'mirtazapine'],
    ['10737', 'trazodone'],
    ['704', 'amitriptyline'],
    ['7531', 'nortriptyline'],
    ['5691', 'imipramine'],
    ['3638', 'doxepin'],
    ['2597', 'clomipramine'],
    ['3247', 'desipramine'],
    ['8123', 'phenelzine'],
    ['10734', 'tranylcypromine'],
    ['1086769', 'vilazodone'],
    ['1455099', 'vortioxetine'],
    ['51272', 'quetiapine'],
    ['61381', 'olanzapine'],
    ['35636', 'risperidone'],
    ['89013', 'aripiprazole'],
    ['115698', 'ziprasidone'],
    ['5093', 'haloperidol'],
    ['2626', 'clozapine'],
    ['1040028', 'lurasidone'],
    ['679314', 'paliperidone'],
    ['2403', 'chlorpromazine'],
    ['4496', 'fluphenazine'],
    ['8076', 'perphenazine'],
    ['784649', 'asenapine'],
    ['6448', 'lithium'],
    ['42351', 'lithium carbonate'],
    ['596', 'alprazolam'],
    ['6470', 'lorazepam'],
    ['3322', 'diazepam'],
    ['2598', 'clonazepam'],
    ['1827', 'buspirone'],
    ['6901', 'methylphenidate'],
    ['725', 'amphetamine'],
    ['3288', 'dextroamphetamine'],
    ['700810', 'lisdexamfetamine'],
    ['38400', 'atomoxetine'],
  ],
  'substance-use': [
    ['1819', 'buprenorphine'],
    ['6813', 'methadone'],
    ['7243', 'naltrexone'],
    ['3554', 'disulfiram'],
    ['591622', 'varenicline'],
  ],
  hiv: [
    ['11413', 'zidovudine'],
    ['68244', 'lamivudine'],
    ['190521', 'abacavir'],
    ['276237', 'emtricitabine'],
    ['195085', 'efavirenz'],
    ['53654', 'nevirapine'],
    ['1102270', 'rilpivirine'],
    ['475969', 'etravirine'],
    ['85762', 'ritonavir'],
    ['195088', 'lopinavir'],
    ['343047', 'atazanavir'],
    ['460132', 'darunavir'],
    ['719872', 'raltegravir'],
    ['1433868', 'dolutegravir'],
    ['620216', 'maraviroc'],
  ],
  'sexual-reproductive': [
    ['7514', 'norethindrone'],
    ['6373', 'levonorgestrel'],
    ['4124', 'ethinyl estradiol'],
    ['4083', 'estradiol'],
    ['10379', 'testosterone'],
    ['6691', 'medroxyprogesterone'],
  ],
};

/** SNOMED CT concepts (International Edition / US Extension ids) beyond classify.ts's list. */
export const SNOMED_SENSITIVE: Readonly<Record<string, readonly string[]>> = {
  'mental-health': [
    '66344007', // Recurrent major depression
    '310495003', // Mild depression
    '310496002', // Moderate depression
    '310497006', // Severe depression
    '87414006', // Reactive depression (situational)
    '78667006', // Dysthymia
    '21897009', // Generalized anxiety disorder
    '371631005', // Panic disorder
    '191736004', // Obsessive-compulsive disorder
    '371596008', // Bipolar I disorder
    '83225003', // Bipolar II disorder
    '56882008', // Anorexia nervosa
    '78004001', // Bulimia nervosa
    '6471006', // Suicidal thoughts
    '82313006', // Suicide attempt
    '52448006', // Dementia
  ],
  'substance-use': [
    '191816009', // Drug dependence
    '55680006', // Drug overdose
    '361055000', // Misuses drugs
    '10939881000119105', // Unhealthy alcohol drinking behavior
  ],
  'sexual-reproductive': [
    '17369002', // Miscarriage
    '240589008', // Chlamydia trachomatis infection
    '386639001', // Termination of pregnancy
  ],
};

/** LOINC tests and instruments beyond classify.ts's list. */
export const LOINC_SENSITIVE: Readonly<Record<string, readonly string[]>> = {
  'mental-health': [
    '44249-1', // PHQ-9 quick depression assessment panel
    '44261-6', // Patient Health Questionnaire 9 item (PHQ-9) total score
    '55757-9', // Patient Health Questionnaire 2 item (PHQ-2) panel
    '55758-7', // PHQ-2 total score
    '69737-5', // Generalized anxiety disorder 7 item (GAD-7)
    '70274-6', // GAD-7 total score
    '14334-7', // Lithium [Moles/volume] in Serum or Plasma
  ],
  'substance-use': [
    '5643-2', // Ethanol [Mass/volume] in Serum or Plasma
    '72109-2', // Alcohol Use Disorder Identification Test - Consumption (AUDIT-C)
    '75626-2', // Total score [AUDIT-C]
    '19295-5', // Opiates [Presence] in Urine by Screen method
    '3397-7', // Cocaine [Presence] in Urine
  ],
  hiv: [
    '7918-6', // HIV 1+2 Ab [Presence] in Serum
  ],
  'sexual-reproductive': [
    '21613-5', // Chlamydia trachomatis DNA [Presence] in Specimen by NAA with probe detection
    '43304-5', // Chlamydia trachomatis rRNA [Presence] in Specimen by NAA with probe detection
    '24111-7', // Neisseria gonorrhoeae DNA [Presence] in Specimen by NAA with probe detection
    '43305-2', // Neisseria gonorrhoeae rRNA [Presence] in Specimen by NAA with probe detection
    '20507-0', // Reagin Ab [Presence] in Serum by RPR
    '5292-8', // Reagin Ab [Presence] in Serum by VDRL
  ],
};
