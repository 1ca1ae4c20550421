#!/usr/bin/env python3
"""Builds the held-out evaluation set of the duplicate engine: tests/data/heldout-activities.json and
tests/data/heldout-labels.json. Written apart from the engine and after its defaults were chosen, and
harder than the tuning set (tests/data/make_eval.py): paraphrases with few words in common, French and
Spanish twins of English records, overlaps that share the field's vocabulary but are different work,
next phases of one project, and the same title in another country or another year. Unrelated work of
other agencies sits in the same countries and periods, as it does in a real log.

Never tune the engine on this set: a figure that moved because of a change made while looking at it
no longer says how the engine does on data it has not seen. Deterministic: the same script writes the
same files."""
import json, os, random

random.seed(20261202)
HERE = os.path.dirname(os.path.abspath(__file__))

def act(agency, title, desc, countries, start, end, themes, sdg=("16.2",), groups=(), partners=()):
    return dict(agency=agency, title=title, description=desc, countries=list(countries), start_date=start,
                end_date=end, themes=list(themes), sdg_targets=list(sdg), target_groups=list(groups),
                partners=list(partners))

# Duplicates: the same piece of work recorded by two agencies, each in its own words.
# (kind, agency A, agency B, countries A, countries B, period A, period B, themes A, themes B, title A,
#  description A, title B, description B)
DUPLICATES = [
("paraphrase", "UNODC", "UNDP", ["KE"], ["KE"], ("2026-02-01", "2026-11-30"), ("2026-03-01", "2026-12-31"), ["prosecution"], ["prosecution", "partnerships"],
 "Mentoring Kenyan prosecutors on trafficking cases",
 "Experienced prosecutors accompany their colleagues in Mombasa and Nairobi through live trafficking cases, from charging decisions to victim testimony.",
 "Case accompaniment for the Office of the Director of Public Prosecutions",
 "Senior counsel coach state attorneys handling human trafficking files at the coast and in the capital, covering charges, evidence and witnesses."),
("paraphrase", "IOM", "UNHCR", ["LY"], ["LY"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["protection"], ["protection"],
 "Safe houses for migrants escaping captivity in Libya",
 "Temporary accommodation, medical treatment and counselling for migrants who fled kidnapping and extortion by smuggling networks near Bani Walid.",
 "Emergency shelter for survivors of abduction and ransom on the migration route",
 "People who got away from armed groups holding them for ransom around Bani Walid receive a bed, health care and psychological support."),
("paraphrase", "ILO", "UNICEF", ["GH"], ["GH"], ("2026-03-01", "2027-02-28"), ("2026-03-01", "2027-02-28"), ["prevention"], ["prevention", "protection"],
 "Ending child labour on Lake Volta fishing boats",
 "Removal of boys from fishing canoes on Lake Volta, return to their families, schooling support and livelihoods for parents.",
 "Getting children off the canoes: Volta lake rescue and family reunification",
 "Young fishermen working for boat owners are taken off the water, brought back home and enrolled in school while their households receive income support."),
("paraphrase", "OSCE", "ICMPD", ["AL"], ["AL"], ("2026-04-01", "2026-10-31"), ("2026-04-01", "2026-11-30"), ["partnerships"], ["partnerships"],
 "Costing Albania's anti-trafficking strategy",
 "Budget analysis of each measure of the national anti-trafficking strategy, with a financing gap report for the ministry of the interior.",
 "What will the national plan cost? Financial estimate for Tirana",
 "Economists price every action of the government's plan against trafficking in human beings and show the interior ministry where funding falls short."),
("paraphrase", "UN Women", "UNFPA", ["NP"], ["NP"], ("2026-01-15", "2026-12-15"), ("2026-02-01", "2026-12-31"), ["protection"], ["protection"],
 "Survivor-led peer support groups in Nepal",
 "Women who returned from exploitation abroad run peer groups in Sindhupalchok and Makwanpur where survivors share experience and get referred to services.",
 "Returnee women helping each other: self-help circles in two hill districts",
 "Former victims trafficked to India and the Gulf lead circles of mutual help in Sindhupalchok and Makwanpur, linking members to health and legal services."),
("paraphrase", "INTERPOL", "UNODC", ["BR"], ["BR"], ("2026-05-01", "2026-05-31"), ("2026-05-01", "2026-06-15"), ["prosecution"], ["prosecution"],
 "Operation against sexual exploitation networks in northern Brazil",
 "Coordinated raids by federal and state police against networks exploiting women in mining camps of Pará, with victim screening on site.",
 "Law enforcement action in gold mining areas of Pará",
 "Federal police teams hit criminal groups that force women into prostitution around illegal mines, while social workers interview the women found."),
("paraphrase", "IOM", "ILO", ["QA"], ["QA"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["prevention"], ["prevention", "partnerships"],
 "Fair recruitment corridor from Bangladesh to Qatar",
 "Zero recruitment fees for workers hired by Qatari construction firms in Bangladesh, with audits of recruitment agencies and contract verification before departure.",
 "Employer-pays principle for Bangladeshi construction workers bound for Doha",
 "Companies building in Doha bear all hiring costs; agencies in Dhaka are audited and job offers are checked against contracts before people leave."),
("paraphrase", "UNICEF", "OSRSG-VAC", ["PH"], ["PH"], ("2026-02-01", "2026-12-31"), ("2026-02-01", "2026-12-31"), ["prevention", "protection"], ["protection"],
 "Keeping Filipino children safe from livestreamed abuse",
 "Community watch groups, parenting sessions and fast referral of child victims of abuse streamed online for paying foreign customers.",
 "Village protection councils against online child abuse for pay",
 "Barangay councils watch for households selling live videos of children to offenders abroad, coach parents and rush rescued children to care."),
("paraphrase", "UNHCR", "IOM", ["ET"], ["ET"], ("2026-03-01", "2026-12-31"), ("2026-03-01", "2026-12-31"), ["protection"], ["protection"],
 "Identification of trafficked Eritrean refugees in Tigray camps",
 "Screening of new arrivals in the camps for signs of trafficking and abduction, with referral to specialised case workers.",
 "Screening new camp arrivals from Eritrea for exploitation",
 "Staff at reception interview Eritreans entering the camps in northern Ethiopia to detect those kidnapped or sold, and pass them to dedicated caseworkers."),
("paraphrase", "UNODC", "OHCHR", ["MX"], ["MX"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["partnerships"], ["partnerships", "protection"],
 "Harmonising Mexican state laws with the federal anti-trafficking law",
 "Legal review of the criminal codes of ten states and draft amendments aligning them with the general law on trafficking in persons.",
 "Bringing local criminal codes in line with the general law",
 "Ten federal entities get an analysis of their penal codes and proposed reforms so that their offences match the national statute against human trafficking."),
("paraphrase", "ILO", "UN Women", ["IN"], ["IN"], ("2026-04-01", "2027-03-31"), ("2026-04-01", "2027-03-31"), ["prevention"], ["prevention"],
 "Decent work for women in Tamil Nadu spinning mills",
 "Grievance committees, wage monitoring and an end to the Sumangali scheme that keeps young women in mill hostels under bonded conditions.",
 "Freeing young mill workers from the marriage-bonus scheme",
 "Girls hired by yarn factories around Coimbatore on promise of a lump sum at the end of their contract gain complaint mechanisms and regular pay."),
("paraphrase", "UNFPA", "UNICEF", ["BD"], ["BD"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["prevention"], ["prevention"],
 "Adolescent clubs against child marriage and trafficking in Bangladesh",
 "Weekly clubs for girls in Kurigram and Jamalpur on life skills, rights and the risks of early marriage and trafficking.",
 "Girls' groups in northern districts on staying safe",
 "Teenagers in Kurigram and Jamalpur meet every week to learn about their rights, how to refuse marriage as children and how traffickers trick families."),

("french", "UNODC", "IOM", ["SN"], ["SN"], ("2026-02-01", "2026-12-31"), ("2026-02-01", "2026-12-31"), ["protection"], ["protection"],
 "Protection of talibé children from forced begging in Senegal",
 "Identification of children forced to beg by Koranic teachers in Dakar, placement in reception centres and return to their families.",
 "Protection des enfants talibés contre la mendicité forcée au Sénégal",
 "Identification des enfants contraints à mendier par des maîtres coraniques à Dakar, placement en centres d'accueil et retour dans leurs familles."),
("french", "ILO", "UNICEF", ["CI"], ["CI"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["prevention"], ["prevention"],
 "Child labour monitoring in cocoa-growing communities of Côte d'Ivoire",
 "Community-based monitoring of child labour on cocoa farms, remediation for children found working and school kits.",
 "Surveillance du travail des enfants dans les communautés cacaoyères",
 "Système communautaire de suivi du travail des enfants dans les plantations de cacao de Côte d'Ivoire, avec remédiation et kits scolaires pour les enfants concernés."),
("french", "OHCHR", "UNODC", ["TN"], ["TN"], ("2026-03-01", "2026-11-30"), ("2026-03-01", "2026-11-30"), ["prosecution", "partnerships"], ["prosecution"],
 "Support to Tunisia's national anti-trafficking authority",
 "Training of the staff of the national authority, a case database and annual reporting on trafficking cases.",
 "Appui à l'Instance nationale de lutte contre la traite des personnes",
 "Formation du personnel de l'instance nationale tunisienne, mise en place d'une base de données des affaires et rapport annuel sur la traite."),
("french", "IOM", "UNHCR", ["ML"], ["ML"], ("2026-01-01", "2026-12-31"), ("2026-02-01", "2026-12-31"), ["protection"], ["protection"],
 "Assistance to migrants stranded in northern Mali",
 "Water, food, medical care and voluntary return for migrants stranded in Gao and exposed to exploitation by armed groups.",
 "Aide aux migrants bloqués dans le nord du Mali",
 "Eau, nourriture, soins et retour volontaire pour les migrants bloqués à Gao et exposés à l'exploitation par les groupes armés."),
("french", "UNICEF", "UNFPA", ["HT"], ["HT"], ("2026-04-01", "2027-03-31"), ("2026-04-01", "2027-03-31"), ["protection"], ["protection"],
 "Restavek children: care and reintegration in Haiti",
 "Foster families and psychosocial care for children in domestic servitude in Port-au-Prince households.",
 "Enfants en domesticité : prise en charge et réinsertion en Haïti",
 "Familles d'accueil et soutien psychosocial pour les enfants placés en servitude domestique dans des foyers de Port-au-Prince."),
("french", "INTERPOL", "UNODC", ["CM"], ["CM"], ("2026-06-01", "2026-06-30"), ("2026-06-01", "2026-07-15"), ["prosecution"], ["prosecution"],
 "Police operation against child trafficking at Cameroon's borders",
 "Checks at border posts with Nigeria and Chad to rescue trafficked children and arrest traffickers.",
 "Opération policière contre la traite des enfants aux frontières du Cameroun",
 "Contrôles aux postes frontières avec le Nigeria et le Tchad pour secourir les enfants victimes et arrêter les trafiquants."),
("french", "UN Women", "OHCHR", ["MA"], ["MA"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["prevention"], ["prevention", "protection"],
 "Rights of women domestic workers in Morocco",
 "Information for domestic workers on the 2018 law on their working conditions, and a hotline for complaints.",
 "Droits des travailleuses domestiques au Maroc",
 "Sensibilisation des travailleuses domestiques à la loi de 2018 sur leurs conditions de travail et ligne d'écoute pour les plaintes."),

("spanish", "UNODC", "IOM", ["GT"], ["GT"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["protection"], ["protection"],
 "Specialised shelter for child victims of trafficking in Guatemala",
 "A shelter in Guatemala City with psychological care, education and legal support for girls and boys rescued from trafficking.",
 "Albergue especializado para niñas y niños víctimas de trata en Guatemala",
 "Un albergue en Ciudad de Guatemala con atención psicológica, educación y apoyo legal para niñas y niños rescatados de la trata."),
("spanish", "ILO", "UN Women", ["PE"], ["PE"], ("2026-03-01", "2027-02-28"), ("2026-03-01", "2027-02-28"), ["prevention"], ["prevention"],
 "Forced labour in illegal gold mining in Madre de Dios, Peru",
 "Labour inspections, awareness in mining camps and alternatives for women and adolescents exploited in illegal gold mining.",
 "Trabajo forzoso en la minería ilegal de oro en Madre de Dios",
 "Inspecciones laborales, sensibilización en los campamentos mineros y alternativas para mujeres y adolescentes explotados en la minería ilegal de oro en Perú."),
("spanish", "UNHCR", "IOM", ["CO"], ["CO"], ("2026-01-01", "2026-12-31"), ("2026-02-01", "2026-12-31"), ["protection"], ["protection"],
 "Protection of Venezuelan refugees from trafficking at the Colombian border",
 "Identification of trafficking risks among Venezuelans crossing at Cúcuta, safe spaces and referral to assistance.",
 "Protección de refugiados venezolanos frente a la trata en la frontera colombiana",
 "Identificación de riesgos de trata entre venezolanos que cruzan por Cúcuta, espacios seguros y remisión a servicios de asistencia."),
("spanish", "UNICEF", "OSRSG-VAC", ["HN"], ["HN"], ("2026-02-01", "2026-12-31"), ("2026-02-01", "2026-12-31"), ["prevention"], ["prevention"],
 "Preventing recruitment of adolescents by gangs and traffickers in Honduras",
 "After-school programmes, mentoring and family support in San Pedro Sula neighbourhoods to keep adolescents away from gangs and trafficking.",
 "Prevención del reclutamiento de adolescentes por pandillas y tratantes en Honduras",
 "Programas extraescolares, mentorías y apoyo familiar en barrios de San Pedro Sula para alejar a los adolescentes de las pandillas y de la trata."),
("spanish", "OHCHR", "UNODC", ["AR"], ["AR"], ("2026-04-01", "2026-12-31"), ("2026-04-01", "2026-12-31"), ["partnerships"], ["partnerships"],
 "Compensation for trafficking victims in Argentina",
 "Legal advice on claiming compensation from confiscated assets of traffickers, with training for judges on reparation.",
 "Reparación para víctimas de trata en Argentina",
 "Asesoramiento jurídico para reclamar indemnización con los bienes decomisados a los tratantes y capacitación de jueces sobre reparación."),
("spanish", "IOM", "ICMPD", ["EC"], ["EC"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["prosecution"], ["prosecution"],
 "Training Ecuadorian border police on trafficking and smuggling",
 "Courses for border police at Rumichaca and Huaquillas on telling trafficking from smuggling and on interviewing victims.",
 "Capacitación de la policía de frontera de Ecuador sobre trata y tráfico",
 "Cursos para la policía de frontera en Rumichaca y Huaquillas sobre cómo distinguir la trata del tráfico de migrantes y entrevistar a las víctimas."),
("spanish", "UN Women", "UNFPA", ["BO"], ["BO"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["protection"], ["protection"],
 "Shelters for women survivors of trafficking and violence in Bolivia",
 "Strengthening municipal shelters in El Alto and Santa Cruz with care protocols for women who survived trafficking and sexual violence.",
 "Casas de acogida para mujeres sobrevivientes de trata y violencia en Bolivia",
 "Fortalecimiento de las casas de acogida municipales de El Alto y Santa Cruz con protocolos de atención a mujeres sobrevivientes de trata y violencia sexual."),

("near_copy", "UNODC", "INTERPOL", ["ZA"], ["ZA"], ("2026-02-01", "2026-10-31"), ("2026-02-01", "2026-10-31"), ["prosecution"], ["prosecution"],
 "Financial investigations into trafficking proceeds in South Africa",
 "Training financial investigators and prosecutors to trace, freeze and confiscate the proceeds of human trafficking.",
 "Financial investigation of trafficking proceeds, South Africa",
 "Financial investigators and prosecutors trained to trace, freeze and confiscate proceeds of human trafficking."),
("near_copy", "ILO", "IOM", ["MY"], ["MY"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["prevention"], ["prevention"],
 "Migrant worker resource centres in Malaysia",
 "Resource centres in Kuala Lumpur and Penang giving migrant workers legal advice, complaint support and information on their rights.",
 "Migrant worker resource centres, Malaysia",
 "Resource centres in Penang and Kuala Lumpur offering migrant workers legal advice, help with complaints and information on rights."),
("near_copy", "UNHCR", "UNICEF", ["UG"], ["UG"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["protection"], ["protection"],
 "Best interests procedures for unaccompanied refugee children in Uganda",
 "Best interests assessments and determinations, family tracing and alternative care for unaccompanied and separated refugee children.",
 "Best interests procedures for unaccompanied and separated children, Uganda",
 "Family tracing, best interests assessments and determinations and alternative care for unaccompanied and separated refugee children."),
("near_copy", "OSCE", "ICMPD", ["UA"], ["UA"], ("2026-03-01", "2026-12-31"), ("2026-03-01", "2026-12-31"), ["prevention"], ["prevention"],
 "Preventing trafficking of people fleeing the war in Ukraine",
 "Information for displaced women and children on safe travel and job offers abroad, and a hotline to check suspicious offers.",
 "Prevention of trafficking among people fleeing the war in Ukraine",
 "Information for displaced women and children on safe travel and offers of jobs abroad, with a hotline for checking suspicious offers."),

("terse", "IOM", "UNODC", ["NE"], ["NE"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["protection"], ["protection"],
 "Victim assistance in Agadez, Niger",
 "Reception, medical care, counselling and voluntary return for victims of trafficking identified in the Agadez region.",
 "Agadez victim assistance",
 "Assistance to trafficking victims, Agadez."),
("terse", "UNICEF", "ILO", ["KH"], ["KH"], ("2026-02-01", "2026-12-31"), ("2026-02-01", "2026-12-31"), ["prevention"], ["prevention"],
 "Ending child labour in Cambodia's brick kilns",
 "Identifying children working in brick kilns around Phnom Penh, enrolling them in school and negotiating debt relief for their families.",
 "Brick kiln child labour, Cambodia",
 "Children out of kilns, into school."),
("terse", "OHCHR", "UN Women", ["LB"], ["LB"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["protection"], ["protection"],
 "Legal aid for migrant domestic workers in Lebanon under the kafala system",
 "Lawyers represent migrant domestic workers held by employers, with passports confiscated or wages unpaid, before labour courts.",
 "Kafala: legal aid for domestic workers",
 "Legal representation, Lebanon."),

("shifted_dates", "IOM", "UNODC", ["TH"], ["TH"], ("2026-01-01", "2026-09-30"), ("2026-05-01", "2027-01-31"), ["protection"], ["protection", "prosecution"],
 "Victim identification in Thai fishing ports",
 "Multidisciplinary teams interview fishers in Songkhla and Ranong ports to identify victims of forced labour and trafficking.",
 "Identifying trafficked fishers in Songkhla and Ranong",
 "Interviews by joint teams of officials and NGOs with crew members in two southern ports to find victims of trafficking and forced labour."),
("country_subset", "ICMPD", "IOM", ["RS", "BA", "ME"], ["BA"], ("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), ["partnerships"], ["partnerships"],
 "Western Balkans cooperation on trafficking cases",
 "Joint case meetings of prosecutors and police of Serbia, Bosnia and Herzegovina and Montenegro on cross-border trafficking cases, with a liaison network.",
 "Cross-border trafficking case meetings in Bosnia and Herzegovina",
 "Prosecutors and police of Bosnia and Herzegovina meet their neighbours' counterparts on cross-border trafficking cases through a liaison network."),
]

# Overlaps: different work in the same country, period and theme as record A of a duplicate, that
# shares the field's vocabulary. (index of the duplicate, agency, title, description, themes)
OVERLAPS = [
(0, "OHCHR", "Monitoring trial fairness in Kenyan trafficking cases",
 "Observers attend trafficking trials in Mombasa and Nairobi and report on the rights of the accused and of victims in court.", ["prosecution"]),
(1, "UNICEF", "Unaccompanied migrant children in Libyan detention",
 "Advocacy for the release of children held in detention centres and family tracing for unaccompanied migrant children.", ["protection"]),
(2, "IOM", "Reintegration of trafficked fishermen's families in Ghana",
 "Economic grants and counselling for families of men trafficked to work on fishing boats abroad.", ["prevention"]),
(4, "UNHCR", "Statelessness and birth registration in Nepal's hill districts",
 "Helping families in Sindhupalchok and Makwanpur obtain citizenship certificates and birth registration.", ["protection"]),
(6, "UNHCR", "Heat stress protection for outdoor workers in Qatar",
 "Guidance for construction companies on working hours in summer heat and medical checks for outdoor workers.", ["prevention"]),
(7, "UNODC", "Digital forensics for investigating online child abuse in the Philippines",
 "Training cybercrime investigators to recover evidence of online child sexual abuse from devices and payment records.", ["prevention"]),
(9, "UN Women", "Women's access to justice in Mexican states",
 "Legal aid and training of judges on gender-based violence cases in ten states.", ["partnerships"]),
(12, "UNHCR", "Asylum procedures for children in Senegal",
 "Support to the national eligibility commission on child-sensitive asylum interviews in Dakar.", ["protection"]),
(13, "UNDP", "Cocoa farmers' income and traceability in Côte d'Ivoire",
 "Traceability of cocoa beans from farm to cooperative and higher farm-gate prices for smallholders.", ["prevention"]),
(19, "UNICEF", "School feeding in Guatemala City's poorest neighbourhoods",
 "Daily meals and after-school support for children of informal workers in Guatemala City.", ["protection"]),
(21, "UNICEF", "Refugee children's education in Cúcuta",
 "School places and teacher training for Venezuelan refugee children in Cúcuta.", ["protection"]),
(27, "UNHCR", "Refugee registration in Kuala Lumpur",
 "Registration and documentation of refugees and asylum seekers in Kuala Lumpur and Penang.", ["prevention"]),
(30, "IOM", "Voluntary return of migrants from Agadez",
 "Transport and reintegration packages for migrants who wish to go home from transit centres in Agadez.", ["protection"]),
(33, "UNODC", "Forced labour case prosecutions in Thai courts",
 "Support to prosecutors on forced labour cases involving fishing companies in southern provinces.", ["protection"]),
]

# Near misses, labelled not_duplicate, on topics no duplicate above shares: the next phase of one
# project; the same title in another country; the same title in the same country in another year.
# (A first draft reused the duplicates' topics with overlapping periods, which made unlabelled
# pairs that were in truth the same work.)
PHASES = [
("UNODC", "IOM", ["KE"], "Witness protection support for trafficking trials",
 "Relocation, allowances and court accompaniment for victims who testify against their traffickers.", ["prosecution"],
 ("2024-01-01", "2025-12-31"), ("2026-01-01", "2027-06-30"), "phase I", "phase II"),
("ILO", "UNICEF", ["BF"], "Child protection committees in artisanal gold mining areas",
 "Village committees that watch for children working at gold panning sites and refer them to social services.", ["prevention"],
 ("2025-01-01", "2026-03-31"), ("2026-03-01", "2027-12-31"), "phase 1", "phase 2"),
("UNHCR", "IOM", ["SD"], "Anti-trafficking task force in Kassala",
 "Coordination of police, social welfare and humanitarian agencies on trafficking cases among refugees in Kassala.", ["protection"],
 ("2025-06-01", "2026-05-31"), ("2026-05-01", "2027-04-30"), "2025", "2026"),
("UN Women", "ILO", ["LK"], "Safe migration information centres for women",
 "Centres in district secretariats where women planning to work abroad check job offers and learn their rights.", ["prevention"],
 ("2025-01-01", "2026-06-30"), ("2026-06-01", "2027-12-31"), "first edition", "second edition"),
("UNODC", "OHCHR", ["PA"], "Review of Panama's anti-trafficking law",
 "Legal review of the anti-trafficking law with proposals on victim protection and sanctions.", ["partnerships"],
 ("2025-01-01", "2026-02-28"), ("2026-02-01", "2026-12-31"), "phase I", "phase II"),
]
ELSEWHERE = [
("IOM", "UNODC", ["KH"], ["VN"], "Vocational training for survivors of trafficking",
 "Courses in tailoring, cooking and motorbike repair with start-up kits for survivors of trafficking.", ["protection"]),
("UNICEF", "ILO", ["NP"], ["LK"], "Awareness caravan on safe migration",
 "A travelling theatre and information caravan visiting villages to talk about safe migration and recruitment fraud.", ["prevention"]),
("UNHCR", "UNICEF", ["UG"], ["RW"], "Foster care for child victims of trafficking",
 "Recruitment, training and monthly support of foster families caring for child victims of trafficking.", ["protection"]),
("OHCHR", "UN Women", ["LB"], ["JO"], "Mobile legal clinics for migrant workers",
 "Lawyers travel to neighbourhoods where migrant workers live to advise them on contracts, wages and documents.", ["protection"]),
]
LATER = [
("UNODC", "INTERPOL", ["ZA"], "Specialised anti-trafficking police unit training",
 "A six-week course for officers of the specialised police unit on trafficking investigations and victim interviews.", ["prosecution"],
 ("2023-02-01", "2023-10-31"), ("2026-02-01", "2026-10-31")),
("ILO", "IOM", ["MY"], "Labour migration information sessions",
 "Information sessions in dormitories on labour law, complaint channels and the risks of debt to recruiters.", ["prevention"],
 ("2022-01-01", "2022-12-31"), ("2026-01-01", "2026-12-31")),
("UNICEF", "UNFPA", ["HT"], "Reintegration grants for trafficking survivors",
 "Small business grants and coaching for survivors of trafficking returning to their communities.", ["protection"],
 ("2023-04-01", "2024-03-31"), ("2026-04-01", "2027-03-31")),
]

# Unrelated work of other agencies in the same countries and periods.
ACTIONS = [
 ("Baseline survey on {s} in {c}", "Household survey and key informant interviews measuring {s} in {c}, with a public report.", ["partnerships"]),
 ("Hotline and referral for {s}, {c}", "A toll-free line with counsellors who refer people affected by {s} in {c} to services.", ["protection"]),
 ("Radio drama on {s} for listeners in {c}", "A radio drama series and call-in shows on {s} broadcast in local languages in {c}.", ["prevention"]),
 ("Case management guidelines on {s}, {c}", "Standard operating procedures for case managers handling {s} in {c}.", ["protection"]),
 ("Parliamentary hearing on {s} in {c}", "Support to a parliamentary committee holding hearings on {s} in {c}.", ["partnerships"]),
 ("Teacher training on {s} in {c}", "Teachers learn to recognise and report {s} among pupils in {c}.", ["prevention"]),
]
SUBJECTS = ["early marriage", "bonded labour in agriculture", "abuse of domestic workers", "street children's exploitation",
            "sexual exploitation in tourism", "forced criminality", "recruitment fraud online", "exploitation in fish processing",
            "begging rings", "exploitation of persons with disabilities", "organ trafficking", "forced labour in prisons"]
NAMES = {"KE": "Kenya", "LY": "Libya", "GH": "Ghana", "AL": "Albania", "NP": "Nepal", "BR": "Brazil", "QA": "Qatar", "PH": "the Philippines",
         "ET": "Ethiopia", "MX": "Mexico", "IN": "India", "BD": "Bangladesh", "SN": "Senegal", "CI": "Côte d'Ivoire", "TN": "Tunisia",
         "ML": "Mali", "HT": "Haiti", "CM": "Cameroon", "MA": "Morocco", "GT": "Guatemala", "PE": "Peru", "CO": "Colombia", "HN": "Honduras",
         "AR": "Argentina", "EC": "Ecuador", "BO": "Bolivia", "ZA": "South Africa", "MY": "Malaysia", "UG": "Uganda", "UA": "Ukraine",
         "NE": "Niger", "KH": "Cambodia", "LB": "Lebanon", "TH": "Thailand", "BA": "Bosnia and Herzegovina", "JO": "Jordan", "RS": "Serbia", "ME": "Montenegro", "BF": "Burkina Faso", "SD": "Sudan", "LK": "Sri Lanka", "PA": "Panama", "VN": "Viet Nam", "RW": "Rwanda"}
AGENCIES = ["UNODC", "ILO", "IOM", "OHCHR", "UNHCR", "UNICEF", "UN Women", "INTERPOL", "OSCE", "ICMPD", "UNFPA", "UNAIDS", "OSRSG-VAC", "UNDP"]

def build():
    records, labels = [], []
    def add(rec):
        rec["id"] = "h%04d" % (len(records) + 1)
        records.append(rec)
        return rec["id"]
    firsts = []
    for kind, ag_a, ag_b, ca, cb, pa, pb, tha, thb, ta, xa, tb, xb in DUPLICATES:
        a = act(ag_a, ta, xa, ca, pa[0], pa[1], tha)
        b = act(ag_b, tb, xb, cb, pb[0], pb[1], thb)
        ia, ib = add(a), add(b)
        firsts.append(a)
        labels.append(dict(a=ia, b=ib, label="duplicate", difficulty=kind))
    for index, agency, title, desc, themes in OVERLAPS:
        first = firsts[index]
        io = add(act(agency, title, desc, first["countries"], first["start_date"], first["end_date"], themes))
        labels.append(dict(a=first["id"], b=io, label="overlap", difficulty="shared_vocabulary"))
    for ag_a, ag_b, countries, title, desc, themes, pa, pb, ma, mb in PHASES:
        ia = add(act(ag_a, f"{title}, {ma}", desc, countries, pa[0], pa[1], themes))
        ib = add(act(ag_b, f"{title}, {mb}", desc, countries, pb[0], pb[1], themes))
        labels.append(dict(a=ia, b=ib, label="not_duplicate", difficulty="next_phase"))
    for ag_a, ag_b, ca, cb, title, desc, themes in ELSEWHERE:
        ia = add(act(ag_a, f"{title} in {NAMES[ca[0]]}", desc, ca, "2026-01-01", "2026-12-31", themes))
        ib = add(act(ag_b, f"{title} in {NAMES[cb[0]]}", desc, cb, "2026-01-01", "2026-12-31", themes))
        labels.append(dict(a=ia, b=ib, label="not_duplicate", difficulty="other_country"))
    for ag_a, ag_b, countries, title, desc, themes, pa, pb in LATER:
        ia = add(act(ag_a, title, desc, countries, pa[0], pa[1], themes))
        ib = add(act(ag_b, title, desc, countries, pb[0], pb[1], themes))
        labels.append(dict(a=ia, b=ib, label="not_duplicate", difficulty="other_year"))
    # Filler: each country of the labelled records gets unrelated work of four agencies, each on
    # another subject and in another kind of action, so that no two filler records of a country
    # share a template (templated texts that differ in one phrase are not how independent agencies
    # write; the first draft of this set had them, and they read as near copies).
    countries = sorted({c for r in records for c in r["countries"]})
    for code in countries:
        subjects = random.sample(SUBJECTS, 4)
        actions = random.sample(ACTIONS, 4)
        for subject, (title, desc, themes) in zip(subjects, actions):
            start = random.choice(["2026-01-01", "2026-03-01", "2026-06-01", "2025-09-01"])
            end = random.choice(["2026-12-31", "2027-06-30", "2026-09-30"])
            add(act(random.choice(AGENCIES), title.format(s=subject, c=NAMES[code]),
                    desc.format(s=subject, c=NAMES[code]), [code], start, end, themes))
    with open(os.path.join(HERE, "heldout-activities.json"), "w") as f:
        json.dump(records, f, ensure_ascii=False, indent=1)
    with open(os.path.join(HERE, "heldout-labels.json"), "w") as f:
        json.dump(labels, f, ensure_ascii=False, indent=1)
    print(f"{len(records)} activities, {len(labels)} labelled pairs")

if __name__ == "__main__":
    build()
