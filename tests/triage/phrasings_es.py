"""How Spanish-speaking callers, their texts and the agents who type their words say the
red flags of the default protocol; the labelled set that measures the Spanish lexicon.

EMERGENCY: rule id → texts the default protocol must decide an emergency, with that rule
among those fired. URGENT: the same for the urgent rules (at least urgent, that rule
fired). ROUTINE: texts that must fire no rule at all: office business, and red flags that
are clearly negated (NEGATED, a part of ROUTINE, is what negation alone must keep routine).
MIXED: texts that negate one red flag and report another.

Written as callers write: with and without accents, in Latin American and US Spanish,
some mixed with English. bench/triage_es.py prints the sensitivity and specificity.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinicline.triage.engine import decide
from clinicline.triage.spec import Priority, ProtocolSpec
from tests.triage import phrasings_es_wide

EMERGENCY: dict[str, list[str]] = {
    "chest-pain": [
        "mi papá tiene dolor de pecho",
        "tiene un dolor en el pecho muy fuerte desde la mañana",
        "me duele el pecho y el brazo izquierdo",
        "siente presión en el pecho y está sudando",
        "le duele mucho el pecho",
        "mi esposo dice que le aprieta el pecho",
        "dolor toracico desde hace 2 horas",
        "creo que le esta dando un infarto",
        "tiene el pecho apretado",
        "dolor de pecho que se le corre al brazo",
        "my dad has dolor de pecho",
        "un dolor como si tuviera un peso en el pecho",
        "a mi esposa le duele el pecho desde hace una hora",
        "siente que le aprietan el pecho",
        "le arde el pecho y suda frío",
        "le dio un infarto",
        "tiene un dolor fuertísimo en el pecho",
        "dice que siente el pecho pesado",
        "mi esposo está teniendo un ataque al corazón",
    ],
    "breathing": [
        "mi papa tiene dolor de pecho y no puede respirar",
        "no puede respirar",
        "le falta el aire",
        "se ahoga",
        "mi hijo tiene dificultad para respirar",
        "le cuesta mucho respirar",
        "casi no puede respirar",
        "se le pusieron los labios morados",
        "está respirando muy rápido y con silbido en el pecho",
        "tiene un ataque de asma y el inhalador no le ayuda",
        "no le entra el aire",
        "se esta ahogando con la comida",
        "falta de aire desde anoche",
        "mi mamá no respira",
        "mi hijo se está asfixiando",
        "respira con mucha dificultad",
        "no puede agarrar aire",
        "se quedó sin aire",
        "el bebé está morado",
        "no le alcanza la respiración",
        "está respirando muy feo",
        "tiene los labios azules",
    ],
    "unresponsive": [
        "se desmayó en la cocina",
        "no responde",
        "está inconsciente",
        "mi abuela no despierta",
        "perdió el conocimiento",
        "lo encontré tirado en el piso y no reacciona",
        "se desplomó de repente",
        "no lo podemos despertar",
        "estaba sin responder cuando llegamos",
        "se cayó y no se mueve",
        "no reacciona cuando le hablo",
        "se le fue el conocimiento",
        "mi papá se desvaneció",
        "se puso pálido y se cayó al suelo",
        "no abre los ojos",
        "está como dormido y no despierta",
    ],
    "stroke": [
        "tiene la cara caída de un lado",
        "de repente no puede hablar",
        "se le durmió un lado del cuerpo",
        "habla raro y arrastra las palabras",
        "se le torció la boca",
        "creo que le dio un derrame cerebral",
        "no puede mover el brazo derecho",
        "le dio una embolia",
        "perdió la vista de un ojo de repente",
        "tiene debilidad en el lado izquierdo",
        "no se le entiende lo que dice",
        "tiene la boca chueca y no puede levantar el brazo",
        "se le traba la lengua y no puede hablar bien",
        "se le cayó la mitad de la cara",
        "no puede mover la mitad del cuerpo",
        "está hablando cosas que no tienen sentido de repente",
    ],
    "severe-bleeding": [
        "sangra mucho",
        "no para de sangrar",
        "se cortó la mano y no deja de sangrar",
        "está sangrando muchísimo de la pierna",
        "tiene una hemorragia",
        "vomitó sangre",
        "empapó tres toallas con sangre",
        "la sangre no se detiene",
        "le sale sangre a chorros",
        "tiene una cortada profunda y sale mucha sangre",
        "está perdiendo mucha sangre",
        "está echando sangre por la boca",
        "tiene un sangrado que no para",
        "se cortó con un cuchillo y sangra muchísimo",
        "la herida no deja de sangrar",
        "escupe sangre",
    ],
    "self-harm": [
        "mi hijo quiere suicidarse",
        "dice que se quiere quitar la vida",
        "amenaza con matarse",
        "se tomó todas las pastillas de su mamá",
        "se está cortando las muñecas",
        "creo que es una sobredosis",
        "se tomo un frasco entero de pastillas para dormir",
        "se quiere matar",
        "se tragó un frasco de pastillas",
        "quiere hacerse daño",
        "dejó una carta de despedida y se tomó las pastillas",
        "se tomó una botella de pastillas",
    ],
    "seizure": [
        "está convulsionando",
        "tuvo una convulsión",
        "le está dando un ataque y tiembla todo",
        "tiene los ojos en blanco y echa espuma por la boca",
        "le dio una crisis convulsiva",
        "convulsiones desde hace cinco minutos",
        "está temblando todo el cuerpo y no responde",
        "le dio una convulsion",
        "está convulsionando y no para",
        "se le voltearon los ojos y se puso rígido",
    ],
    "anaphylaxis": [
        "se le hinchó la garganta",
        "tiene una alergia fuerte",
        "se le está cerrando la garganta después de comer cacahuate",
        "tiene la lengua hinchada y le cuesta tragar",
        "le pusimos el epipen",
        "reacción alérgica grave",
        "se le inflamaron los labios y la cara",
        "se le hinchó la cara y no puede respirar bien",
        "tiene la garganta cerrada",
        "le picó una abeja y se le está hinchando la garganta",
        "tiene la lengua muy inflamada",
    ],
    "head-injury-danger-signs": [
        "se cayó y se pegó en la cabeza y ahora está vomitando",
        "se golpeó la cabeza y está muy confundido",
        "le dieron un golpe en la cabeza y no reconoce a nadie",
        "se cayó de la escalera, se golpeó la cabeza y está vomitando",
    ],
    "pregnancy-heavy-bleeding": [
        "estoy embarazada y estoy sangrando mucho",
        "tiene 20 semanas de embarazo y tiene una hemorragia",
        "estoy embarazada y tengo una hemorragia fuerte",
    ],
}

URGENT: dict[str, list[str]] = {
    "infant-fever": [
        "mi bebé de 3 semanas tiene fiebre",
        "el recién nacido tiene calentura",
        "bebe de dos meses de edad con 38,5 grados",
    ],
    "pregnancy-bleeding": [
        "estoy embarazada y estoy manchando",
        "tiene 8 semanas de embarazo y le salió sangre",
    ],
    "post-op-warning-signs": [
        "lo operaron la semana pasada y tiene fiebre",
        "después de la cirugía la herida está roja y con pus",
        "me hicieron cesárea y se me abrieron los puntos",
        "le operaron la rodilla y tiene la pantorrilla hinchada",
    ],
    "blood-clot": [
        "el doctor dijo que puede ser un coágulo en la pierna",
        "tiene trombosis",
    ],
    "head-injury-on-blood-thinner": [
        "se pegó en la cabeza y toma anticoagulantes",
        "se cayó y se golpeó la cabeza, toma warfarina",
    ],
    "critical-medicine-running-out": [
        "se le acabó la insulina",
        "no le queda insulina hasta el lunes",
        "ya no tiene pastillas para las convulsiones",
        "la farmacia no le quiere surtir el anticoagulante",
    ],
    "allergic-reaction": [
        "le salieron ronchas después de la medicina",
        "tiene una reacción alérgica",
    ],
    "severe-pain": [
        "tiene un dolor muy fuerte en el estómago",
        "dolor insoportable de espalda",
        "le duele muchísimo la cabeza de repente",
    ],
}

# Clearly negated red flags: negation must keep each of these routine.
NEGATED: list[str] = [
    "no tiene fiebre",
    "no tiene dolor de pecho",
    "sin fiebre",
    "niega dolor de pecho",
    "ya no le duele el pecho",
    "nunca ha tenido convulsiones",
    "no le falta el aire",
    "sin dolor de pecho ni falta de aire",
    "no se desmayó",
    "no tiene fiebre, tos ni dolor de pecho",
    "no está sangrando",
    "niega ideas de suicidio",
    "no tiene la garganta hinchada",
    "mi papá no tiene dolor de pecho, solo tos",
    "no ha tenido convulsiones desde el año pasado",
    "sin dificultad para respirar",
    "niega dolor torácico y falta de aire",
    "no se ha desmayado",
    "ya no sangra",
    "mi hijo no tiene fiebre ni tos",
    "no está vomitando, solo tiene gases",
    "nunca se ha desmayado",
]

# The widened default protocol's rules (issue 9), two texts each.
EMERGENCY |= phrasings_es_wide.EMERGENCY
URGENT |= phrasings_es_wide.URGENT

ROUTINE: list[str] = [
    *NEGATED,
    "necesito una receta de mis pastillas para la presión",
    "quiero cambiar mi cita para el martes",
    "tengo una pregunta sobre mi factura",
    "me cobraron dos veces la consulta",
    "necesito una copia de mis resultados de laboratorio",
    "quiero hacer una cita para un chequeo",
    "¿a qué hora abren mañana?",
    "necesito el resultado de mi análisis de sangre",
    "mi mamá necesita un resurtido de su medicina para la presión",
    "¿aceptan mi seguro médico?",
    "mi hija tiene tos y mocos desde ayer",
    "me duele la rodilla cuando camino",
    "nadie responde el teléfono en la oficina",
    "quiero hablar con el doctor sobre mis resultados",
    "necesito un resurtido de insulina, todavía me quedan dos semanas",
    "la recepcionista fue muy grosera conmigo",
    "¿pueden mandar mis récords a otro doctor?",
    "necesito una carta para mi trabajo",
    "necesito mi receta de metformina",
    "la cita es para mi hija de 5 años",
    "no tengo fiebre pero necesito una nota para el trabajo",
    "quiero pagar mi cuenta",
    "necesito que me llame la enfermera sobre mis vacunas",
    "mi mamá está bien, solo quiere cambiar la cita",
    "tomo todas mis pastillas en la mañana",
    "tiene el brazo morado por una vacuna",
    "¿me pueden dar una cita para la próxima semana?",
    "no le duele nada, es para un chequeo",
    "necesito la factura del mes pasado",
    "sin convulsiones desde que toma la medicina",
    "la doctora me dijo que llamara para los resultados",
    "quiero cancelar mi cita del viernes",
    "tengo dudas sobre el copago",
]

# (text, flags that must be found, flags that must not be)
MIXED: list[tuple[str, set[str], set[str]]] = [
    ("no tiene dolor de pecho pero no puede respirar", {"breathing"}, {"chest-pain"}),
    ("no tiene fiebre, se desmayó hace una hora", {"unresponsive"}, {"fever"}),
    ("sin fiebre y le duele el pecho", {"chest-pain"}, {"fever"}),
    ("niega fiebre, refiere dolor de pecho", {"chest-pain"}, {"fever"}),
    ("nunca había tenido un dolor así en el pecho", {"chest-pain"}, set()),
    ("no tenía dolor de pecho hasta hoy", {"chest-pain"}, set()),
    ("no sé si está respirando", {"breathing"}, set()),
    ("no se le quita el dolor de pecho", {"chest-pain"}, set()),
    ("ya no puede respirar", {"breathing"}, set()),
    ("no responde y no respira", {"unresponsive", "breathing"}, set()),
    ("¿dolor de pecho? no. ¿le falta el aire? sí, desde anoche", {"breathing"},
     {"chest-pain"}),
    ("no tiene fiebre ¿se le hinchó la garganta?", {"anaphylaxis"}, {"fever"}),
]


@dataclass(frozen=True)
class Figures:
    """What the set measures: how many texts of each kind the protocol got right."""

    emergency: int
    emergency_found: int   # decided emergency, by the expected rule
    urgent: int
    urgent_found: int      # decided urgent or higher, by the expected rule
    routine: int
    routine_kept: int      # no rule fired
    missed: tuple[str, ...]
    raised: tuple[str, ...]

    @property
    def sensitivity(self) -> float:
        return self.emergency_found / self.emergency

    @property
    def urgent_sensitivity(self) -> float:
        return self.urgent_found / self.urgent

    @property
    def specificity(self) -> float:
        return self.routine_kept / self.routine


def found(spec: ProtocolSpec, rule: str, text: str, at_least: Priority) -> bool:
    decision = decide(spec, None, {}, [text])
    return decision.priority.rank >= at_least.rank and rule in decision.rules


def measure(spec: ProtocolSpec) -> Figures:
    emergencies = [(r, t) for r, texts in EMERGENCY.items() for t in texts]
    urgents = [(r, t) for r, texts in URGENT.items() for t in texts]
    missed = [t for r, t in emergencies if not found(spec, r, t, Priority.EMERGENCY)]
    late = [t for r, t in urgents if not found(spec, r, t, Priority.URGENT)]
    raised = [t for t in ROUTINE if decide(spec, None, {}, [t]).rules]
    return Figures(len(emergencies), len(emergencies) - len(missed), len(urgents),
                   len(urgents) - len(late), len(ROUTINE), len(ROUTINE) - len(raised),
                   tuple(missed + late), tuple(raised))
