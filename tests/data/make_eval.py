#!/usr/bin/env python3
"""Builds the labelled evaluation set of the duplicate engine: tests/data/eval-activities.json (the
activities) and tests/data/eval-labels.json (labelled pairs with their difficulty). Deterministic: the
same script writes the same files. The texts are written by hand; only the filler is composed."""
import json, random, os, itertools

random.seed(20261129)
HERE = os.path.dirname(os.path.abspath(__file__))

def act(agency, title, desc, countries, start, end, themes, sdg=("16.2",), groups=(), partners=()):
    return dict(agency=agency, title=title, description=desc, countries=list(countries), start_date=start,
                end_date=end, themes=list(themes), sdg_targets=list(sdg), target_groups=list(groups),
                partners=list(partners))

# Duplicates: (difficulty, record A, record B). Each pair is the same piece of work recorded by two agencies.
D = []
def dup(kind, a, b): D.append((kind, a, b))

dup("near_copy",
    act("UNODC", "Training of judges and prosecutors on human trafficking cases in Nigeria",
        "Five workshops for judges and prosecutors of the federal high courts on investigating and adjudicating human trafficking cases, victim-centred approaches and international cooperation in criminal matters.",
        ["NG"], "2026-03-01", "2026-12-31", ["prosecution"], ("16.2",), ["judges", "prosecutors"], ["National Judicial Institute", "NAPTIP"]),
    act("IOM", "Training of judges and prosecutors on human trafficking cases, Nigeria",
        "Five workshops for federal high court judges and prosecutors on investigating and adjudicating human trafficking cases, victim-centred approaches and international cooperation in criminal matters.",
        ["NG"], "2026-03-01", "2026-12-31", ["prosecution"], ("16.2",), ["judges", "prosecutors"], ["National Judicial Institute", "NAPTIP"]))
dup("paraphrase",
    act("ILO", "Labour inspectors' capacity on forced labour indicators in Thai fishing",
        "Training labour inspectors and port-in port-out control officers to recognise ILO forced labour indicators on board fishing vessels, with joint inspections and a revised inspection checklist.",
        ["TH"], "2026-01-15", "2026-11-30", ["prevention", "protection"], ("8.7",), ["labour inspectors", "fishers"], ["Department of Fisheries", "Department of Labour Protection and Welfare"]),
    act("IOM", "Detecting forced labour on fishing vessels: support to port inspection teams",
        "Port-in port-out inspection officers and labour inspectors learn to spot forced labour indicators aboard fishing vessels; joint vessel inspections and an updated checklist for inspections.",
        ["TH"], "2026-02-01", "2026-12-15", ["prevention"], ("8.7",), ["labour inspectors"], ["Department of Fisheries"]))
dup("shifted_dates",
    act("UNICEF", "Child-friendly interview rooms for child victims of trafficking in Ghana",
        "Equipping six police stations with child-friendly interview rooms and training officers in forensic interviewing of child victims of trafficking and exploitation.",
        ["GH"], "2026-01-01", "2026-09-30", ["protection"], ("16.2",), ["children", "police officers"], ["Ghana Police Service", "Department of Social Welfare"]),
    act("UNODC", "Child-friendly interview rooms for child victims of trafficking (Ghana)",
        "Six police stations equipped with child-friendly interview rooms; police officers trained in forensic interviewing of child victims of trafficking and exploitation.",
        ["GH"], "2026-04-01", "2026-12-31", ["protection", "prosecution"], ("16.2",), ["children", "police officers"], ["Ghana Police Service"]))
dup("country_subset",
    act("IOM", "Strengthening border management against trafficking along the Gulf of Guinea",
        "Training border and immigration officers at land and sea crossings in Benin, Togo and Nigeria to identify and refer presumed victims of trafficking, with standard operating procedures for referral.",
        ["BJ", "TG", "NG"], "2026-02-01", "2027-01-31", ["prevention", "protection"], ("16.2", "8.7"), ["border officials", "immigration officers"], ["ECOWAS"]),
    act("UNODC", "Border officials training on victim identification in Benin",
        "Immigration and border officers at land and sea crossings of Benin trained to identify and refer presumed victims of trafficking, including standard operating procedures for referral.",
        ["BJ"], "2026-03-01", "2026-12-31", ["protection"], ("16.2",), ["border officials"], ["ECOWAS"]))
dup("terse",
    act("OSCE", "National referral mechanism review in Moldova",
        "Review of the national referral mechanism for victims of trafficking in Moldova, with recommendations on identification, assistance and case coordination between social services and police.",
        ["MD"], "2026-02-01", "2026-08-31", ["protection", "partnerships"], ("16.2",), ["social workers", "police officers"], ["Ministry of Labour and Social Protection"]),
    act("ICMPD", "Review of Moldova's national referral mechanism",
        "NRM review, Moldova.",
        ["MD"], "2026-03-01", "2026-09-30", ["protection"], ("16.2",), [], []))
dup("french",
    act("UNODC", "Training of judges on human trafficking in Côte d'Ivoire",
        "Training workshops for judges and prosecutors on the investigation and prosecution of human trafficking cases and on the protection of victims during criminal proceedings.",
        ["CI"], "2026-05-01", "2026-11-30", ["prosecution"], ("16.2",), ["judges", "prosecutors"], ["Ministry of Justice"]),
    act("OHCHR", "Formation des juges sur la traite des êtres humains en Côte d'Ivoire",
        "Ateliers de formation des juges et procureurs sur les enquêtes et les poursuites dans les affaires de traite des êtres humains et sur la protection des victimes pendant la procédure pénale.",
        ["CI"], "2026-05-01", "2026-12-15", ["prosecution", "protection"], ("16.2",), ["juges", "procureurs"], ["Ministère de la Justice"]))

# The rest of the duplicates, compactly: kind, agencies, countries of A and B, dates of A and B, themes,
# SDG targets, partners, then title and description of A and of B.
SPEC = [
("near_copy","UNHCR","IOM",["LY"],["LY"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection"],["16.2"],["Libyan Red Crescent"],
 "Screening of migrants in detention for trafficking indicators in Libya","Protection monitoring and screening of migrants and refugees in detention centres for indicators of trafficking, with referral to case management and safe shelter.",
 "Screening migrants in detention for indicators of trafficking, Libya","Protection monitoring and screening of refugees and migrants held in detention centres for trafficking indicators, with referral to case management and safe shelter."),
("near_copy","UN Women","UNFPA",["NP"],["NP"],("2026-04-01","2027-03-31"),("2026-04-01","2027-03-31"),["prevention","protection"],["5.2"],["Maiti Nepal"],
 "Safe migration information centres for women in Nepal","Community information centres in five districts giving women prospective migrants information on safe migration, recruitment fees and the risks of trafficking.",
 "Safe migration information centres for women (Nepal)","Information centres in five districts give women who plan to migrate information on safe migration, recruitment fees and trafficking risks."),
("near_copy","INTERPOL","UNODC",["PH"],["PH"],("2026-06-01","2026-06-30"),("2026-06-01","2026-07-15"),["prosecution"],["16.2"],["Philippine National Police"],
 "Operation against online sexual exploitation of children in the Philippines","Coordinated police operation with specialised units against live-streamed online sexual exploitation of children, with victim rescue and digital evidence collection.",
 "Joint operation against online sexual exploitation of children, Philippines","Police operation with specialised units against live-streamed online sexual exploitation of children, including rescue of victims and collection of digital evidence."),
("near_copy","ILO","UN Women",["BD"],["BD"],("2026-01-01","2027-06-30"),("2026-01-01","2027-06-30"),["prevention"],["8.7","5.2"],["Bangladesh Garment Manufacturers and Exporters Association"],
 "Fair recruitment of women garment workers in Bangladesh","Piloting fair recruitment practices with garment factories and recruitment agencies, eliminating recruitment fees charged to women workers and setting up grievance mechanisms.",
 "Fair recruitment for women garment workers in Bangladesh","Pilot of fair recruitment practices with garment factories and recruitment agencies to eliminate recruitment fees charged to women workers, with grievance mechanisms."),
("near_copy","UNODC","OSCE",["UA"],["UA"],("2026-02-01","2026-10-31"),("2026-02-01","2026-10-31"),["prevention","prosecution"],["16.2"],["National Police of Ukraine"],
 "Preventing trafficking of people fleeing the war in Ukraine","Risk assessment and training of police and social workers on trafficking risks for displaced women and children, and an online reporting tool.",
 "Preventing trafficking of persons fleeing the war in Ukraine","Risk assessment and training for police and social workers on trafficking risks for displaced women and children, with an online reporting tool."),
("near_copy","UNICEF","UNHCR",["ET"],["ET"],("2026-03-01","2027-02-28"),("2026-03-01","2027-02-28"),["protection"],["16.2"],["Bureau of Women, Children and Youth Affairs"],
 "Case management for unaccompanied children at risk of trafficking in Ethiopia","Best interests procedures, family tracing and interim care for unaccompanied and separated children at risk of trafficking in refugee camps of the Gambella region.",
 "Case management for unaccompanied children at risk of trafficking, Ethiopia","Family tracing, best interests procedures and interim care for unaccompanied and separated children at risk of trafficking in the refugee camps of Gambella region."),
("near_copy","OHCHR","UN Women",["MX"],["MX"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection","partnerships"],["5.2"],["Comisión Nacional de los Derechos Humanos"],
 "Human rights based approach to victim assistance in Mexico","Guidelines and training for federal and state victim assistance commissions on a human rights based approach to assisting survivors of trafficking, with survivor consultations.",
 "Human rights-based approach to assisting victims in Mexico","Guidelines and training for federal and state victim assistance commissions on a human rights-based approach to assisting trafficking survivors, including consultations with survivors."),
("near_copy","IOM","ICMPD",["TR"],["TR"],("2026-05-01","2027-04-30"),("2026-05-01","2027-04-30"),["protection"],["16.2"],["Presidency of Migration Management"],
 "Shelter and reintegration support for trafficking victims in Türkiye","Running the state shelter for victims of trafficking in Ankara with psychosocial support, legal aid and reintegration grants.",
 "Shelter and reintegration support to victims of trafficking in Türkiye","Support to the state shelter for trafficking victims in Ankara: psychosocial support, legal aid and reintegration grants."),
("near_copy","UNODC","INTERPOL",["BR"],["BR"],("2026-03-01","2026-12-31"),("2026-03-01","2026-12-31"),["prosecution"],["16.2","8.7"],["Federal Police of Brazil"],
 "Financial investigations of trafficking networks in Brazil","Training financial intelligence analysts and investigators on following the money in human trafficking cases, asset recovery and parallel financial investigations.",
 "Financial investigation of human trafficking networks, Brazil","Training for investigators and financial intelligence analysts on following the money in trafficking cases, parallel financial investigations and asset recovery."),
("paraphrase","UNICEF","UNFPA",["IN"],["IN"],("2026-01-01","2026-12-31"),("2026-02-01","2027-01-31"),["prevention"],["5.2","16.2"],["Childline India"],
 "School clubs against child trafficking in Bihar","Setting up student clubs in 200 schools of Bihar to raise awareness of child trafficking and child marriage and to report missing classmates.",
 "Student awareness groups on trafficking of children in Bihar schools","Two hundred schools in Bihar get student groups that raise awareness about trafficking of children and child marriage and alert teachers when a classmate goes missing."),
("paraphrase","ILO","UNODC",["MY"],["MY"],("2026-04-01","2027-03-31"),("2026-04-01","2027-03-31"),["prevention","partnerships"],["8.7"],["Malaysian Employers Federation"],
 "Due diligence on forced labour in palm oil supply chains, Malaysia","Working with palm oil producers and buyers on human rights due diligence, worker interviews and remediation of forced labour indicators such as passport retention and debt bondage.",
 "Palm oil companies in Malaysia: eliminating forced labour from supply chains","Producers and buyers of palm oil are supported to run human rights due diligence, interview workers and remedy forced labour such as debt bondage and retention of passports."),
("paraphrase","UN Women","OHCHR",["GT"],["GT"],("2026-01-01","2026-12-31"),("2026-03-01","2026-12-31"),["protection"],["5.2"],["Secretaría contra la Violencia Sexual, Explotación y Trata de Personas"],
 "Specialised services for indigenous women survivors of trafficking in Guatemala","Culturally appropriate legal, medical and psychological services in Mayan languages for indigenous women and girls who survived trafficking for sexual exploitation.",
 "Guatemala: culturally relevant care for indigenous survivors","Legal aid, health care and psychological support in Mayan languages for indigenous women and girls who survived sexual exploitation and trafficking."),
("paraphrase","IOM","UNHCR",["NE"],["NE"],("2026-02-01","2026-12-31"),("2026-02-01","2026-12-31"),["protection"],["16.2"],["Direction Générale de l'Etat Civil"],
 "Identification of victims among migrants on the Agadez route","Mobile teams on the route through Agadez identify victims of trafficking among migrants and asylum seekers and refer them to assistance or asylum procedures.",
 "Mobile protection teams on the migration route through Agadez","Mobile teams along the Agadez route meet migrants and asylum seekers, identify victims of trafficking and refer them to asylum procedures or assistance."),
("paraphrase","UNODC","OSCE",["RS","BA","ME"],["RS","BA","ME"],("2026-03-01","2027-02-28"),("2026-03-01","2027-02-28"),["prosecution","partnerships"],["16.2"],["Southeast European Police Chiefs Association"],
 "Joint investigation teams against trafficking in the Western Balkans","Supporting prosecutors and police of Serbia, Bosnia and Herzegovina and Montenegro to set up joint investigation teams and exchange evidence in cross-border trafficking cases.",
 "Cross-border investigations in the Western Balkans: joint teams","Police and prosecutors of Serbia, Montenegro and Bosnia and Herzegovina receive support to form joint investigation teams and share evidence in trafficking cases that cross borders."),
("paraphrase","ICMPD","IOM",["AF","PK"],["AF","PK"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["prevention"],["8.7"],["Ministry of Overseas Pakistanis"],
 "Information campaign on irregular migration risks for Afghan and Pakistani youth","Radio, social media and community dialogues warning young people in Afghanistan and Pakistan about smuggling, debt bondage and trafficking on irregular routes to Europe.",
 "Youth in Afghanistan and Pakistan: risks of irregular routes to Europe","Community dialogues, social media and radio spots tell young people about debt bondage, smuggling and trafficking on the irregular routes towards Europe."),
("paraphrase","UNAIDS","UNFPA",["KE"],["KE"],("2026-04-01","2027-03-31"),("2026-04-01","2027-03-31"),["protection"],["5.2"],["Kenya Red Cross"],
 "Health services for survivors of sexual exploitation in Mombasa","Integrated HIV, sexual and reproductive health and psychosocial services for women and girls exploited in the sex trade in Mombasa, including trafficking survivors.",
 "Mombasa: sexual and reproductive health care for exploited women and girls","Women and girls exploited in the sex trade in Mombasa, trafficking survivors among them, get HIV testing, sexual and reproductive health care and psychosocial support in one place."),
("paraphrase","OSCE","ICMPD",["AT","DE"],["AT","DE"],("2026-06-01","2026-11-30"),("2026-06-01","2026-11-30"),["partnerships","prosecution"],["8.7"],["Austrian Federal Criminal Police Office"],
 "Simulation-based training on trafficking for labour exploitation","Live simulation exercise for police, labour inspectors, prosecutors and NGOs on identifying and investigating trafficking for labour exploitation in construction and agriculture.",
 "Live exercise: investigating labour trafficking in construction and agriculture","Police, prosecutors, labour inspectors and NGOs practise, in a live exercise, identifying and investigating trafficking for labour exploitation on building sites and farms."),
("paraphrase","UNHCR","UNICEF",["BD"],["BD"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["prevention","protection"],["16.2"],["Refugee Relief and Repatriation Commissioner"],
 "Community-based protection against trafficking in Cox's Bazar camps","Refugee volunteers in the Rohingya camps of Cox's Bazar trained to spot trafficking and exploitation risks, run awareness sessions and refer cases.",
 "Rohingya volunteers against trafficking in Cox's Bazar","Volunteers from the Rohingya refugee community in the Cox's Bazar camps learn to recognise exploitation and trafficking, lead awareness sessions and refer cases to protection services."),
("paraphrase","UNODC","UN Women",["ZA"],["ZA"],("2026-02-01","2027-01-31"),("2026-02-01","2027-01-31"),["prosecution","protection"],["5.2","16.2"],["National Prosecuting Authority"],
 "Victim-centred prosecution of trafficking cases in South Africa","Mentoring prosecutors of the National Prosecuting Authority on victim-centred, trauma-informed prosecution of trafficking cases and on protecting witnesses.",
 "South Africa: trauma-informed prosecution for trafficking survivors","Prosecutors of the National Prosecuting Authority receive mentoring on trauma-informed, victim-centred prosecution of trafficking and on witness protection."),
("paraphrase","ILO","IOM",["QA"],["QA"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection","prevention"],["8.7"],["Ministry of Labour of Qatar"],
 "Labour dispute resolution for migrant workers in Qatar","Helping migrant workers bring wage and contract complaints to the labour dispute committees, with interpretation and outreach in worker accommodation.",
 "Access to justice for migrant workers' labour complaints, Qatar","Outreach in worker accommodation and interpretation so that migrant workers can take complaints about unpaid wages and contract substitution to the labour dispute committees."),
("shifted_dates","UNODC","IOM",["KH"],["KH"],("2026-01-01","2026-06-30"),("2026-03-01","2026-09-30"),["prosecution"],["16.2"],["Cambodian National Police"],
 "Investigating online scam compounds and forced criminality in Cambodia","Training police investigators on cases of people trafficked into online scam compounds and forced to commit fraud, including victim screening during raids.",
 "Investigating online scam compounds and forced criminality, Cambodia","Police investigators trained on cases of people trafficked into online scam compounds and forced to commit fraud, with victim screening during raids."),
("shifted_dates","IOM","UNHCR",["SD"],["SD"],("2026-01-01","2026-12-31"),("2026-04-01","2027-03-31"),["protection"],["16.2"],["Commission for Refugees"],
 "Protection of trafficking victims in eastern Sudan","Safe houses, medical care and case management for victims of trafficking and kidnapping for ransom among refugees and migrants in Kassala and Gedaref.",
 "Protection of victims of trafficking in eastern Sudan","Case management, medical care and safe houses for refugees and migrants who are victims of trafficking and kidnapping for ransom in Gedaref and Kassala."),
("shifted_dates","ICMPD","OSCE",["GR"],["GR"],("2026-02-01","2026-07-31"),("2026-05-01","2026-10-31"),["partnerships"],["16.2"],["Hellenic Police"],
 "Transnational referral of trafficking victims between Greece and countries of origin","Standard operating procedures and a contact network for transnational referral of victims between Greece and countries of origin, with case conferences.",
 "Transnational referral of victims between Greece and countries of origin","A contact network and standard operating procedures for referring victims across borders between Greece and the countries of origin, with joint case conferences."),
("shifted_dates","UNICEF","UN Women",["CO"],["CO"],("2026-01-01","2026-12-31"),("2026-06-01","2027-05-31"),["prevention"],["5.2","16.2"],["Instituto Colombiano de Bienestar Familiar"],
 "Preventing sexual exploitation of Venezuelan girls in Colombia","Safe spaces, life skills sessions and community alert networks for Venezuelan migrant girls at risk of sexual exploitation and trafficking in border towns.",
 "Preventing sexual exploitation of Venezuelan migrant girls in Colombia","Community alert networks, safe spaces and life skills sessions for Venezuelan migrant girls at risk of trafficking and sexual exploitation in towns near the border."),
("shifted_dates","UNODC","ICMPD",["TN"],["TN"],("2026-03-01","2026-12-31"),("2026-06-01","2027-02-28"),["prosecution","protection"],["16.2"],["Instance Nationale de Lutte contre la Traite des Personnes"],
 "Support to the national anti-trafficking authority of Tunisia","Strengthening the data system and case coordination of Tunisia's national authority against trafficking in persons, with training of its regional focal points.",
 "Support to Tunisia's national authority against trafficking in persons","Training regional focal points and strengthening case coordination and the data system of the national anti-trafficking authority of Tunisia."),
("shifted_dates","IOM","UNODC",["ID"],["ID"],("2026-02-01","2026-11-30"),("2026-05-01","2027-01-31"),["protection","prosecution"],["8.7"],["Indonesian National Police"],
 "Assistance to Indonesian fishers trafficked abroad","Repatriation, medical care and legal assistance for Indonesian fishers trafficked onto foreign fishing vessels, and support to their claims for unpaid wages.",
 "Assistance for Indonesian fishers who were trafficked abroad","Medical care, repatriation and legal aid for Indonesian fishers trafficked onto foreign vessels, including support for their unpaid wage claims."),
("shifted_dates","UNFPA","UNICEF",["NG"],["NG"],("2026-01-01","2026-06-30"),("2026-03-01","2026-10-31"),["protection"],["5.2"],["Edo State Task Force against Human Trafficking"],
 "Psychosocial support for returnee women and girls in Edo State","Counselling, peer support groups and medical referrals for women and girls returning to Edo State after trafficking to Libya and Europe.",
 "Psychosocial support to women and girls returning to Edo State","Women and girls who return to Edo State after being trafficked to Libya and Europe receive counselling, peer support groups and referrals for medical care."),
("shifted_dates","OHCHR","UNODC",["KG"],["KG"],("2026-01-01","2026-12-31"),("2026-03-01","2027-02-28"),["partnerships"],["16.2"],["Ombudsman of Kyrgyzstan"],
 "Review of anti-trafficking legislation in Kyrgyzstan","Legal review of the criminal code and the law on trafficking in persons of Kyrgyzstan against the Palermo Protocol, with recommendations to parliament.",
 "Kyrgyzstan anti-trafficking legislation review","Review of the law on trafficking in persons and the criminal code of Kyrgyzstan against the Palermo Protocol; recommendations for parliament."),
("country_subset","UNHCR","IOM",["IT","MT","GR"],["IT"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection"],["16.2"],["Italian Ministry of Interior"],
 "Identification of trafficking victims in asylum procedures in Mediterranean arrival countries","Training asylum caseworkers in Italy, Malta and Greece to identify victims of trafficking during asylum interviews and refer them to specialised services.",
 "Identifying trafficking victims in asylum procedures in Italy","Asylum caseworkers in Italy trained to identify victims of trafficking in asylum interviews and to refer them to specialised services."),
("country_subset","ILO","UNICEF",["CI","GH"],["CI"],("2026-01-01","2027-12-31"),("2026-01-01","2027-12-31"),["prevention"],["8.7"],["International Cocoa Initiative"],
 "Child labour monitoring in cocoa-growing communities of Côte d'Ivoire and Ghana","Community child labour monitoring and remediation systems in cocoa-growing communities, with school enrolment support and income support for families.",
 "Child labour monitoring in cocoa communities of Côte d'Ivoire","Monitoring and remediation of child labour in cocoa-growing communities of Côte d'Ivoire, with support for school enrolment and family income."),
("country_subset","INTERPOL","UNODC",["SN","ML","GN","MR"],["SN","ML"],("2026-04-01","2026-05-31"),("2026-04-01","2026-06-30"),["prosecution"],["8.7","16.2"],["Gendarmerie nationale"],
 "Regional police operation against child trafficking in West African gold mines","Coordinated police operation in artisanal gold mining areas of Senegal, Mali, Guinea and Mauritania to rescue children and arrest traffickers.",
 "Police operation against child trafficking in gold mines of Senegal and Mali","Coordinated police operation in artisanal gold mining sites of Senegal and Mali to rescue children and arrest traffickers."),
("country_subset","UN Women","UNFPA",["KH","LA","VN"],["VN"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection"],["5.2"],["Viet Nam Women's Union"],
 "Reintegration of women survivors of trafficking in the Mekong region","Livelihood training, savings groups and counselling for women survivors of trafficking returning to Cambodia, Lao PDR and Viet Nam.",
 "Reintegration of women survivors of trafficking in Viet Nam","Counselling, savings groups and livelihood training for women survivors of trafficking who return to Viet Nam."),
("country_subset","OSCE","ICMPD",["AL","MK","XK"],["AL","MK"],("2026-02-01","2026-12-31"),("2026-02-01","2026-12-31"),["partnerships","prevention"],["16.2"],["Regional Cooperation Council"],
 "Regional platform of anti-trafficking coordinators in South-Eastern Europe","Regular meetings, data exchange and joint risk analysis of national anti-trafficking coordinators of Albania, North Macedonia and Kosovo.",
 "Platform of national anti-trafficking coordinators, Albania and North Macedonia","Meetings, data exchange and joint risk analysis of the national anti-trafficking coordinators of Albania and North Macedonia."),
("country_subset","IOM","UNODC",["ZW","ZA","MZ"],["ZA"],("2026-03-01","2027-02-28"),("2026-03-01","2027-02-28"),["prevention","prosecution"],["16.2"],["SADC Secretariat"],
 "Counter-trafficking cooperation along the Southern Africa migration corridor","Cross-border coordination between Zimbabwe, Mozambique and South Africa on identifying victims, joint investigations and safe return.",
 "South Africa: counter-trafficking cooperation on the southern migration corridor","Coordination with neighbouring countries on victim identification, joint investigations and safe return along the migration corridor into South Africa."),
("country_subset","UNICEF","IOM",["HN","GT","SV"],["HN"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection"],["16.2"],["DINAF"],
 "Reception of returned unaccompanied children in northern Central America","Child-friendly reception, screening for trafficking and family reunification for unaccompanied children returned to Honduras, Guatemala and El Salvador.",
 "Reception of returned unaccompanied children in Honduras","Unaccompanied children returned to Honduras are received in child-friendly centres, screened for trafficking and reunited with their families."),
("terse","UNODC","INTERPOL",["ZA"],["ZA"],("2026-05-01","2026-12-31"),("2026-05-01","2026-12-31"),["prosecution"],["16.2"],["South African Police Service"],
 "Specialised investigation unit on trafficking in South Africa","Establishing and mentoring a specialised investigation unit on trafficking in persons within the Directorate for Priority Crime Investigation, with case management software.",
 "Specialised trafficking investigation unit, South Africa","Mentoring of the new unit."),
("terse","IOM","UNHCR",["DJ"],["DJ"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection"],["16.2"],[],
 "Migrant response centre in Obock, Djibouti","Running the migrant response centre in Obock on the Eastern Route with shelter, medical care, screening for trafficking and voluntary return.",
 "Obock migrant response centre","Shelter and screening, Obock, Djibouti."),
("terse","ILO","UN Women",["JO"],["JO"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection","prevention"],["8.7","5.2"],["Tamkeen"],
 "Protection of migrant domestic workers in Jordan","Legal aid, shelter referrals and a hotline for migrant domestic workers facing forced labour, passport confiscation and abuse in Jordan, with awareness work among employers.",
 "Migrant domestic workers in Jordan","Hotline and legal aid for migrant domestic workers."),
("terse","UNODC","OSCE",["UZ"],["UZ"],("2026-02-01","2026-10-31"),("2026-02-01","2026-10-31"),["prosecution"],["16.2"],["General Prosecutor's Office of Uzbekistan"],
 "Training of prosecutors on trafficking cases in Uzbekistan","A training curriculum and six courses for prosecutors on investigating and prosecuting trafficking in persons, integrated into the prosecutors' academy.",
 "Uzbekistan prosecutors training on trafficking","Courses for prosecutors."),
("terse","UNICEF","UNFPA",["MW"],["MW"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["prevention"],["5.2","16.2"],[],
 "Ending child marriage and trafficking of girls in Malawi","Community by-laws, girls' clubs and village committees to prevent child marriage and the trafficking of girls for domestic work in southern Malawi.",
 "Child marriage and trafficking of girls, Malawi","Girls' clubs and community by-laws."),
("terse","INTERPOL","ICMPD",["EG"],["EG"],("2026-03-01","2026-03-31"),("2026-03-01","2026-03-31"),["prosecution"],["16.2"],["Egyptian Ministry of Interior"],
 "Specialised training for Egyptian police on trafficking and smuggling networks","Two-week course for police officers on intelligence-led investigations of trafficking and migrant smuggling networks, including use of INTERPOL databases.",
 "Egypt police course: trafficking and smuggling networks","Police course."),
("french","IOM","UNODC",["ML"],["ML"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection"],["16.2"],["Direction Nationale du Développement Social"],
 "Assistance to victims of trafficking in Mali","Shelter, medical and psychosocial assistance and family reunification for victims of trafficking identified in Bamako and the mining regions.",
 "Assistance aux victimes de la traite au Mali","Hébergement, assistance médicale et psychosociale et réunification familiale pour les victimes de la traite identifiées à Bamako et dans les régions minières."),
("french","UNICEF","ILO",["BF"],["BF"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["prevention"],["8.7","16.2"],["Ministère de l'Action Humanitaire"],
 "Preventing child labour and trafficking in artisanal gold mines of Burkina Faso","Withdrawing children from artisanal gold mining sites, school reintegration and community awareness against child labour and trafficking.",
 "Prévention du travail et de la traite des enfants sur les sites d'orpaillage du Burkina Faso","Retrait des enfants des sites d'orpaillage, réinsertion scolaire et sensibilisation des communautés contre le travail et la traite des enfants."),
("french","OHCHR","UN Women",["HT"],["HT"],("2026-02-01","2026-12-31"),("2026-02-01","2026-12-31"),["protection","partnerships"],["5.2"],["Office de Protection du Citoyen"],
 "Protecting women and girls from trafficking in Haiti's displacement sites","Monitoring of displacement sites, safe spaces and referral to assistance for women and girls at risk of trafficking and sexual exploitation in Port-au-Prince.",
 "Protection des femmes et des filles contre la traite dans les sites de déplacés en Haïti","Suivi des sites de déplacés, espaces sûrs et orientation vers l'assistance pour les femmes et les filles exposées à la traite et à l'exploitation sexuelle à Port-au-Prince."),
("french","UNODC","ICMPD",["MA"],["MA"],("2026-03-01","2027-02-28"),("2026-03-01","2027-02-28"),["prosecution"],["16.2"],["Présidence du Ministère Public"],
 "Training of Moroccan judicial police on trafficking investigations","Training judicial police officers and prosecutors in Morocco on investigating trafficking in persons and on the identification of victims.",
 "Formation de la police judiciaire marocaine aux enquêtes sur la traite","Formation des officiers de police judiciaire et des procureurs au Maroc aux enquêtes sur la traite des personnes et à l'identification des victimes."),
("french","IOM","UNHCR",["TD"],["TD"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection"],["16.2"],["Commission Nationale d'Accueil et de Réinsertion des Réfugiés"],
 "Protection of refugees and migrants from trafficking in Chad","Identification and assistance of victims of trafficking among refugees and migrants in eastern Chad, with training of border officials.",
 "Protection des réfugiés et migrants contre la traite au Tchad","Identification et assistance des victimes de la traite parmi les réfugiés et les migrants dans l'est du Tchad, avec la formation des agents aux frontières."),
("french","UNFPA","UNICEF",["CD"],["CD"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["protection"],["5.2","16.2"],[],
 "Care for girls who survived sexual exploitation in eastern DRC","Medical care, psychosocial support and school reintegration for girls who survived sexual exploitation and trafficking around mining sites in North Kivu.",
 "Prise en charge des filles survivantes d'exploitation sexuelle dans l'est de la RDC","Soins médicaux, soutien psychosocial et réinsertion scolaire pour les filles survivantes d'exploitation sexuelle et de traite autour des sites miniers du Nord-Kivu."),
("paraphrase","UNODC","IOM",["VN"],["VN"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["prevention"],["16.2"],["Ministry of Public Security"],
 "Hotline for reporting trafficking in Viet Nam","Upgrading the national hotline 111 so that callers can report trafficking cases and victims are referred to support services around the clock.",
 "Viet Nam: strengthening the 111 trafficking hotline","The national 111 line is upgraded to take reports of trafficking day and night and to connect victims with support services."),
("near_copy","UNHCR","OHCHR",["TH"],["TH"],("2026-04-01","2027-03-31"),("2026-04-01","2027-03-31"),["protection"],["16.2"],["Thai Ministry of Social Development and Human Security"],
 "Alternatives to immigration detention for child victims in Thailand","Advocacy and case support for alternatives to immigration detention for children identified as victims of trafficking, with family-based care.",
 "Alternatives to immigration detention for child victims, Thailand","Case support and advocacy for alternatives to immigration detention for children identified as trafficking victims, including family-based care."),
("paraphrase","ILO","OSCE",["GB"],["GB"],("2026-01-01","2026-12-31"),("2026-01-01","2026-12-31"),["prevention","partnerships"],["8.7"],["Gangmasters and Labour Abuse Authority"],
 "Preventing forced labour in public procurement in the United Kingdom","Guidance and training for public buyers on identifying forced labour risks in supplier contracts, with model contract clauses.",
 "Public buyers in the UK: forced labour risks in supplier contracts","Public procurement officials get guidance, training and model contract clauses to identify and address forced labour risks among suppliers."),
]
for kind, ag_a, ag_b, ca, cb, da, db, themes, sdg, partners, ta, xa, tb, xb in SPEC:
    dup(kind, act(ag_a, ta, xa, ca, da[0], da[1], themes, sdg, [], partners),
               act(ag_b, tb, xb, cb, db[0], db[1], themes, sdg, [], partners))

# Overlaps: different work by a third agency in the same country, period and theme as record A of a
# duplicate pair (index into D).
OVERLAPS = [
(0, ["NG"], "UNICEF", "Shelters for child survivors of trafficking in Edo and Lagos", "Running two shelters with case management, family tracing and schooling for children who survived trafficking.", ["prosecution", "protection"]),
(1, ["TH"], "IOM", "Social protection for families of migrant fishers in Thailand", "Registering fishers' families for social security and health insurance schemes in coastal provinces.", ["prevention"]),
(2, ["GH"], "IOM", "Return and reintegration grants for Ghanaian migrants", "Reintegration counselling and small business grants for migrants returning to Ghana from Libya and Niger.", ["protection"]),
(4, ["MD"], "UNICEF", "Foster care for children without parental care in Moldova", "Recruiting and training foster families and closing residential institutions for children in two districts.", ["protection"]),
(6, ["LY"], "OHCHR", "Registration and documentation of refugees in Tripoli", "Biometric registration, documentation and cash assistance for refugees and asylum seekers living in urban Tripoli.", ["protection"]),
(7, ["NP"], "ILO", "Skills certification for returning migrant workers in Nepal", "Recognition of prior learning and skills certificates for migrant workers coming back from the Gulf countries.", ["prevention"]),
(8, ["PH"], "UNICEF", "Online safety lessons for Filipino schoolchildren", "Digital citizenship curriculum and online safety lessons for secondary school pupils and their parents.", ["prevention", "prosecution"]),
(9, ["BD"], "UNICEF", "Day-care centres for children of garment workers in Bangladesh", "Day-care centres near factories so that children of women garment workers are not left alone or sent to work.", ["prevention"]),
(10, ["UA"], "UNHCR", "Cash assistance for displaced families in western Ukraine", "Multi-purpose cash grants for displaced families in western regions, targeting women-headed households.", ["prevention"]),
(11, ["ET"], "UNFPA", "Maternal health services in Gambella refugee camps", "Midwives, delivery kits and ambulances for refugee women in the camps of the Gambella region.", ["protection"]),
(12, ["MX"], "UNICEF", "Birth registration campaign in southern Mexico", "Mobile birth registration units for children of migrant and indigenous families in Chiapas and Oaxaca.", ["protection"]),
(15, ["IN"], "UNODC", "Drug prevention in Bihar schools", "Life skills lessons on drug use prevention for adolescents in secondary schools of Bihar.", ["prevention"]),
(18, ["NE"], "UNODC", "Smuggling of migrants investigations in Niger", "Training police and gendarmes on investigating migrant smuggling networks operating through Agadez.", ["protection", "prosecution"]),
(20, ["AF", "PK"], "UNICEF", "Youth employment skills in Afghan and Pakistani border provinces", "Vocational training and apprenticeships for young people in border provinces to open jobs at home.", ["prevention"]),
(22, ["AT", "DE"], "ILO", "Occupational safety for posted workers on building sites", "Campaign on safety rules and accident prevention for posted workers on construction sites.", ["partnerships"]),
(23, ["BD"], "UNFPA", "Gender-based violence case management in Cox's Bazar", "Women-friendly spaces and case management for survivors of gender-based violence in the Rohingya camps.", ["prevention", "protection"]),
(25, ["QA"], "UNHCR", "Refugee status determination in Qatar", "Support to registration and refugee status determination for asylum seekers among migrant workers.", ["protection"]),
(26, ["KH"], "UNICEF", "Birth certificates for children of Cambodian migrant workers", "Helping families obtain birth certificates and identity documents for children left behind by migrant parents.", ["prosecution"]),
(27, ["SD"], "UNICEF", "Education in emergencies for refugee children in eastern Sudan", "Temporary learning spaces and teacher incentives for refugee children in Kassala and Gedaref.", ["protection"]),
(29, ["CO"], "IOM", "Labour migration pathways between Colombia and Spain", "Circular migration scheme for agricultural workers with pre-departure orientation and fair contracts.", ["prevention"]),
(31, ["ID"], "UNICEF", "Nutrition for children of fishing communities in Indonesia", "Community nutrition programme for young children in fishing villages of North Sulawesi.", ["protection"]),
(35, ["CI"], "UN Women", "Women's economic empowerment in cocoa farming, Côte d'Ivoire", "Training women cocoa farmers in cooperative management and access to credit.", ["prevention"]),
(37, ["VN"], "IOM", "Voluntary return of Vietnamese migrants from Europe", "Counselling, travel and reintegration assistance for Vietnamese migrants returning from the United Kingdom and Germany.", ["protection"]),
(42, ["DJ"], "UNICEF", "Water and sanitation in Obock and Tadjourah", "Boreholes, latrines and hygiene promotion for host communities and migrants in northern Djibouti.", ["protection"]),
(43, ["JO"], "UNHCR", "Legal aid for Syrian refugees in Jordan", "Civil documentation and legal counselling for Syrian refugees in host communities.", ["protection"]),
(45, ["MW"], "UNFPA", "School meals in southern Malawi", "Daily school meals to keep girls and boys in primary school during the lean season.", ["prevention"]),
]

# Hard negatives: a generic title reused elsewhere or later by another agency.
GENERIC = [
("Awareness-raising campaign on human trafficking", "Radio spots, posters and community meetings to raise public awareness of human trafficking and how to report it.", ["prevention"], [("UNODC", ["NG"], "2026-01-01", "2026-06-30"), ("IOM", ["TH"], "2026-01-01", "2026-06-30"), ("ILO", ["NG"], "2028-01-01", "2028-06-30")]),
("Training of police officers on trafficking in persons", "A three-day course for police officers on the definition of trafficking, identification of victims and first response.", ["prosecution"], [("UNODC", ["KE"], "2026-02-01", "2026-04-30"), ("INTERPOL", ["PE"], "2026-02-01", "2026-04-30"), ("OSCE", ["KE"], "2029-02-01", "2029-04-30")]),
("World Day against Trafficking in Persons event", "Public event on 30 July with survivors, officials and civil society to mark the World Day against Trafficking in Persons.", ["partnerships"], [("UNODC", ["AT"], "2026-07-30", "2026-07-30"), ("IOM", ["EG"], "2026-07-30", "2026-07-30"), ("UN Women", ["AT"], "2027-07-30", "2027-07-30")]),
("Support to the national action plan against trafficking", "Technical support to the government for drafting, costing and monitoring the national action plan against trafficking in persons.", ["partnerships"], [("UNODC", ["GH"], "2026-01-01", "2026-12-31"), ("IOM", ["PK"], "2026-01-01", "2026-12-31"), ("ICMPD", ["GH"], "2030-01-01", "2030-12-31")]),
("Capacity building for labour inspectors", "Training labour inspectors on forced labour, child labour and workplace inspections.", ["prevention"], [("ILO", ["PE"], "2026-01-01", "2026-12-31"), ("IOM", ["VN"], "2026-01-01", "2026-12-31")]),
("Shelter for victims of trafficking", "Running a shelter with accommodation, counselling and medical care for victims of trafficking.", ["protection"], [("IOM", ["AL"], "2026-01-01", "2026-12-31"), ("UNHCR", ["EC"], "2026-01-01", "2026-12-31"), ("UNICEF", ["AL"], "2020-01-01", "2020-12-31")]),
]

# Phase I and phase II of one programme, run by two agencies one after the other.
PHASES = [
("UNODC", "IOM", ["NG", "NE"], "Joint programme against trafficking along the central Mediterranean route", "Joint programme of police cooperation, victim assistance and awareness along the central Mediterranean route.", ["prosecution", "protection"]),
("ILO", "UN Women", ["LK"], "Safe and fair labour migration for women in Sri Lanka", "Fair recruitment, pre-departure training and services for women migrant workers and their families.", ["prevention"]),
("UNICEF", "UNHCR", ["UG"], "Child protection in refugee settlements of northern Uganda", "Case management, child-friendly spaces and alternative care for refugee children in settlements.", ["protection"]),
("OSCE", "ICMPD", ["RO", "BG"], "Cooperation against trafficking for labour exploitation in Romania and Bulgaria", "Joint training and case coordination of labour inspectorates and police against labour exploitation.", ["prosecution", "partnerships"]),
("UNODC", "OHCHR", ["PH"], "Strengthening the prosecution of online child exploitation in the Philippines", "Prosecutor mentoring and victim support for cases of online sexual exploitation of children.", ["prosecution"]),
("IOM", "UNODC", ["MX"], "Victim identification at the southern border of Mexico", "Training migration agents and police on identifying victims of trafficking among migrants crossing the southern border.", ["protection"]),
]

# Filler: distinct pieces of work, composed so that no two are the same work.
ACTIONS = [
 ("Study on {s} in {c}", "Research study with interviews and a literature review on {s} in {c}, published with policy recommendations.", ["partnerships"]),
 ("Helpline for {s} in {c}", "A free helpline with trained counsellors and referral for people affected by {s} in {c}.", ["protection"]),
 ("Community dialogues on {s}, {c}", "Community dialogues with religious and traditional leaders on {s} in {c}.", ["prevention"]),
 ("Data collection system on {s} for {c}", "Design of an administrative data collection system and a statistical bulletin on {s} in {c}.", ["partnerships"]),
 ("Legal aid clinic on {s} in {c}", "A legal aid clinic with lawyers and paralegals assisting people affected by {s} in {c}.", ["protection", "prosecution"]),
 ("Curriculum for social workers on {s}, {c}", "A training curriculum for social workers and case managers on {s} in {c}.", ["protection"]),
 ("Media training on reporting {s} in {c}", "Workshops for journalists on ethical reporting about {s} in {c}.", ["prevention"]),
 ("Private sector roundtable on {s} in {c}", "Roundtable of companies and business associations on {s} in {c}.", ["partnerships", "prevention"]),
]
SUBJECTS = ["child marriage", "debt bondage in brick kilns", "exploitation of domestic workers", "forced begging of children",
            "labour exploitation in agriculture", "sexual exploitation of adolescents", "organ removal", "forced criminality",
            "exploitation in textile supply chains", "trafficking for forced marriage", "cyber-enabled recruitment", "exploitation on construction sites",
            "recruitment fraud", "exploitation in mining", "child soldiers recruitment", "seafarers abandonment"]
COUNTRIES = ["AR", "AU", "AZ", "BO", "CA", "CL", "CN", "CR", "DO", "EC", "FJ", "GE", "IQ", "IR", "JM", "KZ", "LB", "LK", "MG",
             "MN", "MZ", "NA", "NI", "PA", "PG", "PY", "RW", "SA", "SL", "SO", "SS", "TJ", "TZ", "UY", "YE", "ZM"]
AGENCIES = ["UNODC", "ILO", "IOM", "OHCHR", "UNHCR", "UNICEF", "UN Women", "INTERPOL", "OSCE", "ICMPD", "UNFPA", "UNAIDS", "OSRSG-VAC"]

def build():
    records, labels = [], []
    def add(rec):
        rec = dict(rec)
        rec["id"] = f"a{len(records) + 1:04d}"
        records.append(rec)
        return rec["id"]
    d_ids = []
    for kind, a, b in D:
        ia, ib = add(a), add(b)
        d_ids.append((ia, a))
        labels.append(dict(a=ia, b=ib, label="duplicate", difficulty=kind))
    for index, countries, agency, title, desc, themes in OVERLAPS:
        ia, a = d_ids[index]
        assert agency != a["agency"], f"overlap {index} pairs an agency with itself"
        ic = add(act(agency, title, desc, countries, a["start_date"], a["end_date"], themes, a["sdg_targets"]))
        labels.append(dict(a=ia, b=ic, label="overlap", difficulty="different_work"))
    for title, desc, themes, uses in GENERIC:
        ids = [add(act(agency, title, desc, countries, start, end, themes)) for agency, countries, start, end in uses]
        for x, y in itertools.combinations(ids, 2):
            labels.append(dict(a=x, b=y, label="not_duplicate", difficulty="generic_title"))
    for ag1, ag2, countries, title, desc, themes in PHASES:
        one = add(act(ag1, f"{title}, phase I", desc, countries, "2024-01-01", "2025-12-31", themes))
        two = add(act(ag2, f"{title}, phase II", desc, countries, "2026-01-01", "2027-12-31", themes))
        labels.append(dict(a=one, b=two, label="not_duplicate", difficulty="phases"))
    # One piece of work per template and country: two records that differ only in their subject
    # would be templated near-twins, a case the evaluation names separately if it is ever added.
    combos = [(a, s, c) for a in range(len(ACTIONS)) for s in SUBJECTS for c in COUNTRIES]
    random.shuffle(combos)
    used = set()
    picked = []
    for a, subject, country in combos:
        if (a, country) in used or (subject, country) in used:
            continue
        used.add((a, country))
        used.add((subject, country))
        picked.append((a, subject, country))
        if len(picked) == 170:
            break
    for action, subject, country in picked:
        title, desc, themes = ACTIONS[action]
        year = random.randint(2019, 2030)
        month = random.randint(1, 6)
        add(act(random.choice(AGENCIES), title.format(s=subject, c=country), desc.format(s=subject, c=country), [country],
                f"{year}-{month:02d}-01", f"{year}-{month + 5:02d}-28", themes, random.choice([("16.2",), ("8.7",), ("5.2",), ()])))
    return records, labels

if __name__ == "__main__":
    records, labels = build()
    with open(os.path.join(HERE, "eval-activities.json"), "w", encoding="utf-8") as f:
        json.dump(records, f, ensure_ascii=False, indent=1)
    with open(os.path.join(HERE, "eval-labels.json"), "w", encoding="utf-8") as f:
        json.dump(labels, f, ensure_ascii=False, indent=1)
    agencies = {r["agency"] for r in records}
    print(f"{len(records)} activities of {len(agencies)} agencies; {len(labels)} labelled pairs")
